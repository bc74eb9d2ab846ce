using System;

namespace PrecisionPolicy;

/// <summary>
/// Loss scaling with PyTorch GradScaler semantics: multiply the loss by <see cref="Scale"/> before
/// backward so small FP16 gradients do not flush to zero; divide the gradients by it before the
/// step. <see cref="Update"/> is told whether the step's gradients were finite: an overflow resets
/// the growth tracker and (once hysteresis is used up) multiplies the scale by the backoff factor;
/// <c>GrowthInterval</c> finite steps in a row multiply it by the growth factor.
/// </summary>
public sealed class LossScaler
{
    private LossScalerState state;

    /// <summary>Creates a scaler; throws on invalid options.</summary>
    public LossScaler(LossScalerOptions? options = null)
    {
        Options = options ?? LossScalerOptions.Dynamic;
        Options.Validate();
        var initial = Options.Mode == LossScalingMode.Off ? 1.0 : Options.InitialScale;
        state = new LossScalerState(initial, 0, Options.Hysteresis, 0, 0, 0);
    }

    /// <summary>The settings.</summary>
    public LossScalerOptions Options { get; }

    /// <summary>The scale the next backward multiplies the loss by.</summary>
    public double Scale => state.Scale;

    /// <summary>True unless the mode is <see cref="LossScalingMode.Off"/>.</summary>
    public bool Enabled => Options.Mode != LossScalingMode.Off;

    /// <summary>A snapshot of the whole state (for checkpoints and reports).</summary>
    public LossScalerState State => state;

    /// <summary>
    /// Records one step's result and moves the scale. Throws <see cref="LossScaleException"/>
    /// (after recording the skip) when an overflow can no longer be answered by backing off.
    /// </summary>
    public void Update(bool foundNonFinite)
    {
        var s = state;
        if (!foundNonFinite)
        {
            state = s with { ConsecutiveSkips = 0, TotalSteps = s.TotalSteps + 1 };
            if (Options.Mode == LossScalingMode.Dynamic) Grow();
            return;
        }

        state = s with { ConsecutiveSkips = s.ConsecutiveSkips + 1, TotalSkips = s.TotalSkips + 1, TotalSteps = s.TotalSteps + 1 };
        if (Options.Mode == LossScalingMode.Dynamic) BackOff(s.Scale);
        else if (state.ConsecutiveSkips >= Options.MaxConsecutiveSkips)
            throw new LossScaleException(
                $"{state.ConsecutiveSkips} steps in a row had inf/NaN gradients with {Options.Mode} loss scaling " +
                $"(scale {state.Scale}), so each was skipped. Check the loss for NaN/inf, lower the learning rate, " +
                "or use dynamic loss scaling ([LossScaling] / LossScalerOptions.Dynamic).");
    }

    /// <summary>Continues from a saved state; throws if it does not fit these options.</summary>
    public void Restore(LossScalerState saved)
    {
        ArgumentNullException.ThrowIfNull(saved);
        if (!double.IsFinite(saved.Scale) || saved.Scale <= 0 || saved.GrowthTracker < 0 || saved.HysteresisLeft < 1)
            throw new ArgumentException($"Loss scaler state {saved} is not valid: scale must be finite and > 0, counters non-negative.", nameof(saved));
        state = saved;
    }

    private void Grow()
    {
        var tracker = state.GrowthTracker + 1;
        if (tracker < Options.GrowthInterval)
        {
            state = state with { GrowthTracker = tracker };
            return;
        }
        // DeepSpeed refills hysteresis when the scale grows.
        var grown = Math.Min(state.Scale * Options.GrowthFactor, Options.MaxScale);
        state = state with { Scale = grown, GrowthTracker = 0, HysteresisLeft = Options.Hysteresis };
    }

    private void BackOff(double scaleOfFailedStep)
    {
        if (state.HysteresisLeft > 1)
        {
            state = state with { GrowthTracker = 0, HysteresisLeft = state.HysteresisLeft - 1 };
            return;
        }
        if (scaleOfFailedStep <= Options.MinScale)
        {
            state = state with { GrowthTracker = 0 };
            throw new LossScaleException(
                $"Gradients were inf/NaN at the minimum loss scale {Options.MinScale} ({state.ConsecutiveSkips} skipped steps in a row): " +
                "the loss or the model has diverged and skipping further steps would hide it. Check the loss for NaN/inf, " +
                "lower the learning rate, or keep the overflowing ops in FP32 with [HighPrecision].");
        }
        var backedOff = Math.Max(scaleOfFailedStep * Options.BackoffFactor, Options.MinScale);
        state = state with { Scale = backedOff, GrowthTracker = 0 };
    }
}
