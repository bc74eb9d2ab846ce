using System;
using PrecisionPolicy.Catalog;
using PrecisionPolicy.Scaling;

namespace PrecisionPolicy;

/// <summary>
/// Configures the loss scaler of the class's generated mixed-precision optimizer. Without it, FP16
/// gets <see cref="LossScalingMode.Dynamic"/> and every other precision <see cref="LossScalingMode.Off"/>.
/// Defaults are PyTorch GradScaler's (torch/amp/grad_scaler.py: no floor, no ceiling); hysteresis
/// and a minimum scale (DeepSpeed) and a maximum scale (Apex) are opt-in.
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

    /// <summary>The scale never backs off below this (DeepSpeed's min_loss_scale is 1); 0 = no floor, as PyTorch.</summary>
    public double MinScale { get; set; } = LossScalerOptions.DefaultMinScale;

    /// <summary>The scale never grows above this (Apex's max_loss_scale is 2^24); +∞ = no ceiling, as PyTorch.</summary>
    public double MaxScale { get; set; } = LossScalerOptions.DefaultMaxScale;
}
