using System;
using System.Collections.Generic;
using System.Linq;

namespace PrecisionPolicy.Samples.Addition.Training;

/// <summary>One way to train the model: a precision and its loss scaling.</summary>
/// <param name="Name">Name on the command line, in the table and in the JSON.</param>
/// <param name="Description">What the run is, for the command line's help.</param>
/// <param name="Precision">Compute precision the policy runs at.</param>
/// <param name="Scaling">Loss scaling of the master-weight optimizer.</param>
public sealed record RunKind(string Name, string Description, Precision Precision, LossScalerOptions Scaling)
{
    /// <summary>The runs the sample knows, in table order.</summary>
    public static IReadOnlyList<RunKind> All { get; } =
    [
        new("fp32", "the FP32 reference", Precision.FP32, LossScalerOptions.Off),
        new("bf16", "BF16, no loss scaling", Precision.BF16, LossScalerOptions.Off),
        new("fp16", "FP16 with dynamic loss scaling", Precision.FP16, LossScalerOptions.Dynamic),
        new("fp16-noscale", "FP16 without loss scaling, to show underflow", Precision.FP16, LossScalerOptions.Off),
        new("fp8", "FP8: E4M3 forward, E5M2 backward, dynamic loss scaling", Precision.FP8, LossScalerOptions.For(Precision.FP8)),
    ];

    /// <summary>Runs by name (comma-separated); throws with the known names on a typo.</summary>
    public static IReadOnlyList<RunKind> Parse(string names) =>
        names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(n => All.FirstOrDefault(k => string.Equals(k.Name, n, StringComparison.OrdinalIgnoreCase))
                         ?? throw new ArgumentException($"Unknown precision run '{n}': use {string.Join(", ", All.Select(k => k.Name))}."))
            .ToArray();
}
