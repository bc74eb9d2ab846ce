using PrecisionPolicy.Scaling;
using PrecisionPolicy.Telemetry;

namespace PrecisionPolicy.Optimization;

/// <summary>What the inner optimizer is built over.</summary>
public enum MasterLayout
{
    /// <summary>
    /// The one flat FP32 master buffer, handed to the inner optimizer as consecutive cache-sized
    /// chunks (2^17 elements, one parameter each): the inner optimizer's op count follows the number
    /// of elements, not of tensors, and each op runs in cache. Exact for element-wise optimizers
    /// (SGD, Adam, AdamW, RMSProp, Adagrad): the same result as over one flat parameter; all masters
    /// share one parameter group. TorchSharp's SGD, Adam, AdamW, Adamax, RMSProp, Adagrad and Adadelta
    /// are stepped one chunk at a time, each chunk copied into the working weights right after its
    /// update, while it is in cache; any other optimizer gets one step() call over all chunks.
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
    /// <summary>
    /// Loss scaling. Null (the default): off when the optimizer is constructed directly (right for BF16/FP32;
    /// FP16 wants <see cref="LossScalerOptions.Dynamic"/>), and the class's <c>[LossScaling]</c> (or its
    /// precision's default) in the generated <c>CreateMixedPrecisionOptimizer(factory, options)</c>.
    /// </summary>
    public LossScalerOptions? Scaling { get; init; }

    /// <summary>Clip the unscaled FP32 gradients to this L2 norm before the inner step; null = no clipping.</summary>
    public double? MaxGradNorm { get; init; }

    /// <summary>
    /// Report <see cref="StepOutcome.Gradients"/> (zero fraction, max |g|) on applied steps: two
    /// extra reductions per step, for numerics monitoring.
    /// </summary>
    public bool TrackGradientStatistics { get; init; }

    /// <summary>What the inner optimizer sees (default <see cref="MasterLayout.Flat"/>).</summary>
    public MasterLayout Layout { get; init; } = MasterLayout.Flat;

    /// <summary>Receives a message per skipped step and per loss-scale change (<see cref="PrecisionPolicyTelemetry"/> event ids); null: none.</summary>
    public Microsoft.Extensions.Logging.ILogger? Logger { get; init; }

    /// <summary>
    /// Where the <see cref="PrecisionPolicyTelemetry.MeterName"/> meter comes from (dependency injection's
    /// <see cref="System.Diagnostics.Metrics.IMeterFactory"/>); null: the process-wide meter.
    /// </summary>
    public System.Diagnostics.Metrics.IMeterFactory? MeterFactory { get; init; }

    /// <summary>Data-parallel training across the ranks of a communicator (gradients reduced, one decision per step); null: one process.</summary>
    public Distributed.DataParallelOptions? DataParallel { get; init; }
}
