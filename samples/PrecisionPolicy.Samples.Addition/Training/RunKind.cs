using System.Collections.Generic;
using System.Linq;
using System;
using PrecisionPolicy.Scaling;

namespace PrecisionPolicy.Samples.Addition.Training;

/// <summary>How a run updates its parameters.</summary>
public enum UpdateRule
{
    /// <summary>AdamW on FP32 master weights (MasterWeightOptimizer): the recipe.</summary>
    MastersAdamW,
    /// <summary>Plain SGD on FP32 master weights.</summary>
    MastersSgd,
    /// <summary>Plain SGD straight on the working parameters, FP16 ones included: no master weights.</summary>
    InPlaceSgd,
}

/// <summary>One way to train the model: a precision and its loss scaling, and for the failure-mode runs what they change.</summary>
/// <param name="Name">Name on the command line, in the table and in the JSON.</param>
/// <param name="Description">What the run is, for the command line's help.</param>
/// <param name="Precision">Compute precision the policy runs at.</param>
/// <param name="Scaling">Loss scaling of the master-weight optimizer.</param>
public sealed record RunKind(string Name, string Description, Precision Precision, LossScalerOptions Scaling)
{
    /// <summary>
    /// The loss weight of the underflow runs, 2^-20: the weighted loss's gradients at the logits (about 1e-2
    /// of the loss before the weight) fall below half of FP16's smallest subnormal, 2^-25, and round to 0.
    /// </summary>
    public const double SmallLossWeight = 1.0 / (1 << 20);

    /// <summary>
    /// Dynamic loss scaling for the weighted loss: it starts at the default 2^16 divided by the weight, so the
    /// scaled loss, and every FP16 gradient, is the fp16 run's.
    /// </summary>
    public static LossScalerOptions SmallLossScaling { get; } = LossScalerOptions.Dynamic with { InitialScale = LossScalerOptions.DefaultInitialScale / SmallLossWeight };

    /// <summary>Queries and keys times 2^8 in the overflow runs: scores 2^16 times larger, past FP16's 65504 at step 1.</summary>
    public const int HotAttentionGainLog2 = 8;

    /// <summary>How the parameters are updated.</summary>
    public UpdateRule Update { get; init; } = UpdateRule.MastersAdamW;

    /// <summary>The SGD pair counts lost updates (w + lr·g == w); the other runs leave the count out of their steps.</summary>
    public bool CountsLostUpdates => Update is UpdateRule.InPlaceSgd or UpdateRule.MastersSgd;

    /// <summary>
    /// The loss is multiplied by this before backward. AdamW's eps and the clipping norm are multiplied by
    /// it too, so in exact arithmetic the run trains exactly as with weight 1: only FP16's range tells them apart.
    /// </summary>
    public double LossWeight { get; init; } = 1;

    /// <summary>See <see cref="Model.GptConfig.AttentionGainLog2"/>.</summary>
    public int AttentionGainLog2 { get; init; }

    /// <summary>See <see cref="Model.GptConfig.ScoresInFp32"/>.</summary>
    public bool ScoresInFp32 { get; init; }

    /// <summary>The numerics trace records this run even without --trace-numerics: its report names the site that failed.</summary>
    public bool Traced { get; init; }

    /// <summary>For a failure-mode run: the failure it shows or recovers from (runs that share it are compared); null for the others.</summary>
    public string? FailureMode { get; init; }

    /// <summary>The runs the sample trains by default, in table order.</summary>
    public static IReadOnlyList<RunKind> Default { get; } =
    [
        new("fp32", "the FP32 reference", Precision.FP32, LossScalerOptions.Off),
        new("bf16", "BF16, no loss scaling", Precision.BF16, LossScalerOptions.Off),
        new("fp16", "FP16 with dynamic loss scaling", Precision.FP16, LossScalerOptions.Dynamic),
        new("fp16-noscale", "FP16 without loss scaling, to show underflow", Precision.FP16, LossScalerOptions.Off),
        new("fp8", "FP8: E4M3 forward, E5M2 backward, dynamic loss scaling", Precision.FP8, LossScalerOptions.For(Precision.FP8)),
    ];

    /// <summary>
    /// `--failure-modes`: each failure the recipe exists for, in a run where it shows, beside the same run
    /// with the recipe's fix.
    /// </summary>
    public static IReadOnlyList<RunKind> FailureModes { get; } =
    [
        new("small-loss-noscale", "FP16, no loss scaling, loss weighted by 2^-20: its gradients underflow to 0 and the loss stalls", Precision.FP16, LossScalerOptions.Off)
            { LossWeight = SmallLossWeight, FailureMode = "gradient underflow" },
        new("small-loss-scaled", "the same weighted loss with dynamic loss scaling from 2^36 (2^16 / the weight)", Precision.FP16, SmallLossScaling)
            { LossWeight = SmallLossWeight, FailureMode = "gradient underflow" },
        new("fp16-inplace-sgd", "FP16 weights updated in place by SGD, no FP32 master weights: w + lr·g == w loses updates", Precision.FP16, LossScalerOptions.Off)
            { Update = UpdateRule.InPlaceSgd, FailureMode = "lost updates" },
        new("fp16-masters-sgd", "the same SGD on FP32 master weights", Precision.FP16, LossScalerOptions.Off)
            { Update = UpdateRule.MastersSgd, FailureMode = "lost updates" },
        new("hot-attention-fp16", "FP16, attention scores 2^16 times larger before their scale: the score matmul overflows (traced)", Precision.FP16, LossScalerOptions.Dynamic)
            { AttentionGainLog2 = HotAttentionGainLog2, Traced = true, FailureMode = "overflow" },
        new("hot-attention-fp32-scores", "the same with the score matmul in a [HighPrecision] region (traced)", Precision.FP16, LossScalerOptions.Dynamic)
            { AttentionGainLog2 = HotAttentionGainLog2, ScoresInFp32 = true, Traced = true, FailureMode = "overflow" },
    ];

    /// <summary>Every run the sample knows.</summary>
    public static IReadOnlyList<RunKind> All { get; } = [.. Default, .. FailureModes];

    /// <summary>Runs by name (comma-separated); throws with the known names on a typo.</summary>
    public static IReadOnlyList<RunKind> Parse(string names) =>
        names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(n => All.FirstOrDefault(k => string.Equals(k.Name, n, StringComparison.OrdinalIgnoreCase))
                         ?? throw new ArgumentException($"Unknown precision run '{n}': use {string.Join(", ", All.Select(k => k.Name))}."))
            .ToArray();
}
