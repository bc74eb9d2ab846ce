using Microsoft.Extensions.Logging;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Scaling;

namespace PrecisionPolicy.Telemetry;

/// <summary>
/// The names under which <see cref="GradScaler"/> and <see cref="MasterWeightOptimizer"/> publish
/// what their steps did: one <see cref="System.Diagnostics.Metrics.Meter"/> named <see cref="MeterName"/>
/// (subscribe with OpenTelemetry's <c>AddMeter("PrecisionPolicy")</c>, <c>dotnet-counters monitor
/// --counters PrecisionPolicy</c> or a <see cref="System.Diagnostics.Metrics.MeterListener"/>) and the
/// event ids of the <see cref="ILogger"/> messages. Every measurement carries the tag
/// <see cref="ComponentTag"/> (<c>GradScaler</c> or <c>MasterWeightOptimizer</c>).
/// </summary>
public static class PrecisionPolicyTelemetry
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "PrecisionPolicy";

    /// <summary>Tag on every measurement: which class recorded it.</summary>
    public const string ComponentTag = "precisionpolicy.component";

    /// <summary>Tag on <see cref="LossScaleChanges"/>: <c>grow</c>, <c>backoff</c> or <c>set</c> (a scale given to <see cref="GradScaler.Update(double?)"/> or loaded).</summary>
    public const string DirectionTag = "precisionpolicy.direction";

    /// <summary>Counter (<c>{step}</c>): optimizer steps applied, their gradients finite.</summary>
    public const string StepsApplied = "precisionpolicy.steps.applied";

    /// <summary>Counter (<c>{step}</c>): optimizer steps skipped because a gradient held inf or NaN.</summary>
    public const string StepsSkipped = "precisionpolicy.steps.skipped";

    /// <summary>Counter (<c>{change}</c>): updates that changed the loss scale, tagged with <see cref="DirectionTag"/>.</summary>
    public const string LossScaleChanges = "precisionpolicy.loss_scale.changes";

    /// <summary>Histogram (unit 1): the loss scale after each update.</summary>
    public const string LossScale = "precisionpolicy.loss_scale";

    /// <summary>Histogram (unit 1): the L2 norm of the unscaled gradients of each applied step (before clipping).</summary>
    public const string GradientNorm = "precisionpolicy.gradient.norm";

    /// <summary>
    /// Histogram (unit 1): the fraction of unscaled gradient elements that are exactly zero, per applied step
    /// (<see cref="MasterWeightOptions.TrackGradientStatistics"/>): FP16 underflow shows here.
    /// </summary>
    public const string GradientZeroFraction = "precisionpolicy.gradient.zero_fraction";

    /// <summary>Histogram (unit 1): the largest absolute unscaled gradient, per applied step (<see cref="MasterWeightOptions.TrackGradientStatistics"/>).</summary>
    public const string GradientMaxAbs = "precisionpolicy.gradient.max_abs";

    /// <summary>Log event (Information): a step was skipped; names the first non-finite tensor when known and the scale.</summary>
    public static readonly EventId StepSkippedEvent = new(1, "StepSkipped");

    /// <summary>Log event (Information): the loss scale changed; gives the old and new scale and the direction.</summary>
    public static readonly EventId LossScaleChangedEvent = new(2, "LossScaleChanged");

    /// <summary>Log event (Error): too many inf/NaN steps in a row (<see cref="LossScaleException"/>); the exception follows.</summary>
    public static readonly EventId ScalingStoppedEvent = new(3, "ScalingStopped");
}
