using System;
using PrecisionPolicy.Catalog;

namespace PrecisionPolicy.Scaling;

/// <summary>
/// Settings of a <see cref="LossScaler"/>. The defaults are PyTorch's GradScaler
/// (torch/amp/grad_scaler.py: init 2^16, growth ×2 every 2000 clean steps, backoff ×0.5, no
/// floor, no ceiling); hysteresis and a minimum scale (DeepSpeed) and a maximum scale (Apex: 2^24)
/// are opt-in. One guard is on by default: <see cref="MaxConsecutiveSkips"/> non-finite steps in
/// a row are an error, because a healthy run overflows on isolated steps and a diverged one
/// (NaN loss) would otherwise skip forever. It never changes the scale sequence.
/// </summary>
public sealed record LossScalerOptions
{
    /// <summary>PyTorch GradScaler's init_scale (2^16).</summary>
    public const double DefaultInitialScale = LossScalingDefaults.InitialScale;
    /// <summary>PyTorch GradScaler's growth_factor.</summary>
    public const double DefaultGrowthFactor = LossScalingDefaults.GrowthFactor;
    /// <summary>PyTorch GradScaler's backoff_factor.</summary>
    public const double DefaultBackoffFactor = LossScalingDefaults.BackoffFactor;
    /// <summary>PyTorch GradScaler's growth_interval.</summary>
    public const int DefaultGrowthInterval = LossScalingDefaults.GrowthInterval;
    /// <summary>No hysteresis (PyTorch); DeepSpeed's fp16 config uses 2.</summary>
    public const int DefaultHysteresis = LossScalingDefaults.Hysteresis;
    /// <summary>No floor (PyTorch); DeepSpeed's min_loss_scale is 1.</summary>
    public const double DefaultMinScale = 0.0;
    /// <summary>No ceiling (PyTorch); Apex amp's max_loss_scale is 2^24.</summary>
    public const double DefaultMaxScale = double.PositiveInfinity;
    /// <summary>
    /// Non-finite steps in a row that end the run. From 2^16 with backoff 0.5, 64 overflows in a
    /// row take the scale to 2^-48: no healthy run gets there, even with DeepSpeed's hysteresis 2.
    /// </summary>
    public const int DefaultMaxConsecutiveSkips = 64;

    /// <summary>Dynamic, static or off.</summary>
    public LossScalingMode Mode { get; init; } = LossScalingMode.Dynamic;
    /// <summary>Starting scale (dynamic) or the fixed scale (static); held in float32 as PyTorch holds it. Ignored when off.</summary>
    public double InitialScale { get; init; } = DefaultInitialScale;
    /// <summary>Multiplier after <see cref="GrowthInterval"/> consecutive finite steps.</summary>
    public double GrowthFactor { get; init; } = DefaultGrowthFactor;
    /// <summary>Multiplier on an overflowing step (once hysteresis is used up).</summary>
    public double BackoffFactor { get; init; } = DefaultBackoffFactor;
    /// <summary>Consecutive finite steps before the scale grows.</summary>
    public int GrowthInterval { get; init; } = DefaultGrowthInterval;
    /// <summary>Overflowing steps tolerated before a backoff; refilled when the scale grows (DeepSpeed). 1 = none.</summary>
    public int Hysteresis { get; init; } = DefaultHysteresis;
    /// <summary>The scale never backs off below this (DeepSpeed's min_loss_scale); 0 = no floor.</summary>
    public double MinScale { get; init; } = DefaultMinScale;
    /// <summary>The scale never grows above this (Apex's max_loss_scale); +∞ = no ceiling.</summary>
    public double MaxScale { get; init; } = DefaultMaxScale;
    /// <summary>
    /// Non-finite (skipped) steps in a row after which <see cref="LossScaler.Update"/> throws
    /// <see cref="LossScaleException"/>, in every mode; null = never (skip for ever, as PyTorch does).
    /// Isolated overflows reset nothing but the growth tracker and never count towards it.
    /// </summary>
    public int? MaxConsecutiveSkips { get; init; } = DefaultMaxConsecutiveSkips;

    /// <summary>Dynamic scaling with the defaults.</summary>
    public static LossScalerOptions Dynamic { get; } = new();

    /// <summary>No scaling: scale 1, nothing grows or backs off.</summary>
    public static LossScalerOptions Off { get; } = new() { Mode = LossScalingMode.Off, InitialScale = 1.0 };

    /// <summary>A fixed scale (1 when none is given).</summary>
    public static LossScalerOptions Static(double scale = LossScalingDefaults.StaticScale) => new() { Mode = LossScalingMode.Static, InitialScale = scale };

    /// <summary>The usual choice for a compute precision: dynamic for FP16 and FP8, off otherwise.</summary>
    public static LossScalerOptions For(Precision precision) =>
        Dtypes.ScalesLossByDefault(precision) ? Dynamic : Off;

    /// <summary>Throws when a setting is out of range, naming it.</summary>
    public void Validate()
    {
        var initial = (float)InitialScale;
        Require(float.IsFinite(initial) && initial > 0, nameof(InitialScale), "must be a number > 0 that float32 can hold");
        Require(GrowthFactor >= 1 && double.IsFinite(GrowthFactor), nameof(GrowthFactor), "must be a finite number >= 1");
        Require(BackoffFactor > 0 && BackoffFactor < 1, nameof(BackoffFactor), "must be in (0, 1)");
        Require(GrowthInterval >= 1, nameof(GrowthInterval), "must be >= 1");
        Require(Hysteresis >= 1, nameof(Hysteresis), "must be >= 1 (1 means no hysteresis)");
        Require(MinScale >= 0 && double.IsFinite(MinScale), nameof(MinScale), "must be a finite number >= 0 (0 means no floor)");
        Require(MaxScale > 0 && MaxScale >= MinScale, nameof(MaxScale), "must be > 0 and >= MinScale (+∞ means no ceiling)");
        Require(MaxConsecutiveSkips is null or >= 1, nameof(MaxConsecutiveSkips), "must be >= 1, or null for no limit");
        if (Mode == LossScalingMode.Dynamic)
            Require(InitialScale >= MinScale && InitialScale <= MaxScale, nameof(InitialScale), $"must lie in [MinScale, MaxScale] = [{MinScale}, {MaxScale}]");
    }

    private static void Require(bool ok, string name, string what)
    {
        if (!ok) throw new ArgumentOutOfRangeException(name, $"LossScalerOptions.{name} {what}.");
    }
}
