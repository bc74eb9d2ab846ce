namespace PrecisionPolicy;

/// <summary>What the inner optimizer is built over.</summary>
public enum MasterLayout
{
    /// <summary>
    /// The one flat FP32 master buffer, handed to the inner optimizer as consecutive cache-sized
    /// chunks (2^17 elements, one parameter each): the inner optimizer's op count follows the number
    /// of elements, not of tensors, and each op runs in cache. Exact for element-wise optimizers
    /// (SGD, Adam, AdamW, RMSProp, Adagrad): the same result as over one flat parameter; all masters
    /// share one parameter group.
    /// </summary>
    Flat,
    /// <summary>
    /// One FP32 master parameter per working parameter (views into the same flat buffer), in
    /// module order: for per-tensor optimizers or per-parameter groups.
    /// </summary>
    PerTensor,
}

/// <summary>Settings of a <see cref="MasterWeightOptimizer"/>.</summary>
public sealed record MasterWeightOptions
{
    /// <summary>Loss scaling; off by default (right for BF16/FP32; FP16 wants <see cref="LossScalerOptions.Dynamic"/>).</summary>
    public LossScalerOptions Scaling { get; init; } = LossScalerOptions.Off;

    /// <summary>Clip the unscaled FP32 gradients to this L2 norm before the inner step; null = no clipping.</summary>
    public double? MaxGradNorm { get; init; }

    /// <summary>
    /// Report <see cref="StepOutcome.Gradients"/> (zero fraction, max |g|) on applied steps: two
    /// extra reductions per step, for numerics monitoring.
    /// </summary>
    public bool TrackGradientStatistics { get; init; }

    /// <summary>What the inner optimizer sees (default <see cref="MasterLayout.Flat"/>).</summary>
    public MasterLayout Layout { get; init; } = MasterLayout.Flat;
}
