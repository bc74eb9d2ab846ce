using System;
using PrecisionPolicy.Catalog;

namespace PrecisionPolicy;

/// <summary>
/// Configures the loss scaler of the class's generated mixed-precision optimizer. Without it, FP16
/// gets <see cref="LossScalingMode.Dynamic"/> and every other precision <see cref="LossScalingMode.Off"/>.
/// Defaults are PyTorch GradScaler's (torch/amp/grad_scaler.py), hysteresis and min scale DeepSpeed's.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false, AllowMultiple = false)]
public sealed class LossScalingAttribute : Attribute
{
    /// <summary>Dynamic loss scaling with the defaults.</summary>
    public LossScalingAttribute() : this(LossScalingMode.Dynamic) { }

    /// <summary>Loss scaling in the given mode.</summary>
    public LossScalingAttribute(LossScalingMode mode) => Mode = mode;

    /// <summary>The scaling mode.</summary>
    public LossScalingMode Mode { get; }

    /// <summary>Initial scale of dynamic scaling (2^16).</summary>
    public double InitialScale { get; set; } = LossScalerOptions.DefaultInitialScale;

    /// <summary>The fixed scale of <see cref="LossScalingMode.Static"/>.</summary>
    public double StaticScale { get; set; } = LossScalingDefaults.StaticScale;

    /// <summary>Factor applied after <see cref="GrowthInterval"/> consecutive finite steps (2).</summary>
    public double GrowthFactor { get; set; } = LossScalerOptions.DefaultGrowthFactor;

    /// <summary>Factor applied on an inf/NaN step (0.5).</summary>
    public double BackoffFactor { get; set; } = LossScalerOptions.DefaultBackoffFactor;

    /// <summary>Consecutive finite steps before the scale grows (2000).</summary>
    public int GrowthInterval { get; set; } = LossScalerOptions.DefaultGrowthInterval;

    /// <summary>Overflows tolerated before the scale backs off (DeepSpeed hysteresis; 1 = PyTorch).</summary>
    public int Hysteresis { get; set; } = LossScalingDefaults.Hysteresis;

    /// <summary>Smallest scale; an overflow at this scale is an error, not a silent skip (1).</summary>
    public double MinScale { get; set; } = LossScalerOptions.DefaultMinScale;

    /// <summary>Largest scale (2^24, Apex's cap).</summary>
    public double MaxScale { get; set; } = LossScalerOptions.DefaultMaxScale;
}
