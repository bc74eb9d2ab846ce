using System;
using System.Collections.Generic;
using System.Linq;

namespace PrecisionPolicy.Samples.Addition.Training;

/// <summary>One way to train the model: a precision and its loss scaling.</summary>
/// <param name="Name">Name on the command line, in the table and in the JSON.</param>
/// <param name="Precision">Compute precision the policy runs at.</param>
/// <param name="Scaling">Loss scaling of the master-weight optimizer.</param>
public sealed record RunKind(string Name, Precision Precision, LossScalerOptions Scaling)
{
    /// <summary>The runs the sample knows, in table order.</summary>
    public static IReadOnlyList<RunKind> All { get; } =
    [
        new("fp32", Precision.FP32, LossScalerOptions.Off),
        new("bf16", Precision.BF16, LossScalerOptions.Off),
        new("fp16", Precision.FP16, LossScalerOptions.Dynamic),
        new("fp16-noscale", Precision.FP16, LossScalerOptions.Off),
        new("fp8", Precision.FP8, LossScalerOptions.For(Precision.FP8)),
    ];

    /// <summary>Runs by name (comma-separated); throws with the known names on a typo.</summary>
    public static IReadOnlyList<RunKind> Parse(string names) =>
        names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(n => All.FirstOrDefault(k => string.Equals(k.Name, n, StringComparison.OrdinalIgnoreCase))
                         ?? throw new ArgumentException($"Unknown precision run '{n}': use {string.Join(", ", All.Select(k => k.Name))}."))
            .ToArray();
}
