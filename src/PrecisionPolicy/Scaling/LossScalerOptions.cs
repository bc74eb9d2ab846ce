using System;
using PrecisionPolicy.Catalog;

namespace PrecisionPolicy;

/// <summary>
/// Settings of a <see cref="LossScaler"/>. Defaults follow PyTorch's GradScaler
/// (torch/amp/grad_scaler.py: init 2^16, growth ×2 every 2000 clean steps, backoff ×0.5) with
/// DeepSpeed's hysteresis (1 = off) and min scale (1), and Apex's max scale (2^24).
/// </summary>
public sealed record LossScalerOptions
{
    /// <summary>PyTorch GradScaler's init_scale.</summary>
    public const double DefaultInitialScale = LossScalingDefaults.InitialScale;
    /// <summary>PyTorch GradScaler's growth_factor.</summary>
    public const double DefaultGrowthFactor = LossScalingDefaults.GrowthFactor;
    /// <summary>PyTorch GradScaler's backoff_factor.</summary>
    public const double DefaultBackoffFactor = LossScalingDefaults.BackoffFactor;
    /// <summary>PyTorch GradScaler's growth_interval.</summary>
    public const int DefaultGrowthInterval = LossScalingDefaults.GrowthInterval;
    /// <summary>DeepSpeed's min_loss_scale.</summary>
    public const double DefaultMinScale = 1.0;
    /// <summary>Apex amp's max_loss_scale (2^24).</summary>
    public const double DefaultMaxScale = 16777216.0;
    /// <summary>Consecutive skipped steps after which a scaler that cannot back off gives up.</summary>
    public const int DefaultMaxConsecutiveSkips = 64;

    /// <summary>Dynamic, static or off.</summary>
    public LossScalingMode Mode { get; init; } = LossScalingMode.Dynamic;
    /// <summary>Starting scale (dynamic) or the fixed scale (static). Ignored when off.</summary>
    public double InitialScale { get; init; } = DefaultInitialScale;
    /// <summary>Multiplier after <see cref="GrowthInterval"/> consecutive finite steps.</summary>
    public double GrowthFactor { get; init; } = DefaultGrowthFactor;
    /// <summary>Multiplier on an overflowing step (once hysteresis is used up).</summary>
    public double BackoffFactor { get; init; } = DefaultBackoffFactor;
    /// <summary>Consecutive finite steps before the scale grows.</summary>
    public int GrowthInterval { get; init; } = DefaultGrowthInterval;
    /// <summary>Overflowing steps tolerated before a backoff; refilled when the scale grows.</summary>
    public int Hysteresis { get; init; } = LossScalingDefaults.Hysteresis;
    /// <summary>The scale never backs off below this; an overflow at it is an error.</summary>
    public double MinScale { get; init; } = DefaultMinScale;
    /// <summary>The scale never grows above this.</summary>
    public double MaxScale { get; init; } = DefaultMaxScale;
    /// <summary>For static/off scaling (which cannot back off): skipped steps in a row that are an error.</summary>
    public int MaxConsecutiveSkips { get; init; } = DefaultMaxConsecutiveSkips;

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
        Require(double.IsFinite(InitialScale) && InitialScale > 0, nameof(InitialScale), "must be a finite number > 0");
        Require(GrowthFactor >= 1, nameof(GrowthFactor), "must be >= 1");
        Require(BackoffFactor > 0 && BackoffFactor < 1, nameof(BackoffFactor), "must be in (0, 1)");
        Require(GrowthInterval >= 1, nameof(GrowthInterval), "must be >= 1");
        Require(Hysteresis >= 1, nameof(Hysteresis), "must be >= 1 (1 means no hysteresis)");
        Require(MinScale > 0 && MinScale <= MaxScale, nameof(MinScale), "must be > 0 and <= MaxScale");
        Require(MaxConsecutiveSkips >= 1, nameof(MaxConsecutiveSkips), "must be >= 1");
        if (Mode == LossScalingMode.Dynamic)
            Require(InitialScale >= MinScale && InitialScale <= MaxScale, nameof(InitialScale), $"must lie in [MinScale, MaxScale] = [{MinScale}, {MaxScale}]");
    }

    private static void Require(bool ok, string name, string what)
    {
        if (!ok) throw new ArgumentOutOfRangeException(name, $"LossScalerOptions.{name} {what}.");
    }
}
