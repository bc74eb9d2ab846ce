using System;

namespace PrecisionPolicy.Scaling;

/// <summary>
/// Loss scaling with PyTorch GradScaler semantics (torch/amp/grad_scaler.py and the
/// <c>_amp_update_scale_</c> kernel): multiply the loss by <see cref="Scale"/> before backward so
/// small FP16 gradients do not flush to zero; divide the gradients by it before the step.
/// <see cref="Update"/> is told whether the step's gradients were finite: an overflow resets the
/// growth tracker and (once DeepSpeed hysteresis is used up) multiplies the scale by the backoff
/// factor; <c>GrowthInterval</c> finite steps in a row multiply it by the growth factor. The scale
/// is a float32 value, as PyTorch's scale tensor is, so both produce the same sequence.
/// </summary>
public sealed class LossScaler
{
    private LossScalerState state;

    /// <summary>Creates a scaler; throws on invalid options.</summary>
    public LossScaler(LossScalerOptions? options = null)
    {
        Options = options ?? LossScalerOptions.Dynamic;
        Options.Validate();
        var initial = Options.Mode == LossScalingMode.Off ? 1.0 : (float)Options.InitialScale;
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
    /// (after recording the step) when <see cref="LossScalerOptions.MaxConsecutiveSkips"/> steps in a
    /// row were non-finite, or when backing off would take the scale below float32's range.
    /// </summary>
    /// <param name="foundNonFinite">True when the step's gradients held an inf or NaN (the step was skipped).</param>
    /// <param name="firstNonFinite">The first tensor with an inf/NaN gradient, for the error message.</param>
    public void Update(bool foundNonFinite, string? firstNonFinite = null)
    {
        var s = state;
        if (!foundNonFinite)
        {
            state = s with { ConsecutiveSkips = 0, TotalSteps = s.TotalSteps + 1, FirstNonFiniteOfRun = null };
            if (Options.Mode == LossScalingMode.Dynamic) Grow();
            return;
        }

        state = s with
        {
            ConsecutiveSkips = s.ConsecutiveSkips + 1,
            TotalSkips = s.TotalSkips + 1,
            TotalSteps = s.TotalSteps + 1,
            FirstNonFiniteOfRun = s.ConsecutiveSkips == 0 ? firstNonFinite : s.FirstNonFiniteOfRun ?? firstNonFinite,
        };
        if (Options.Mode == LossScalingMode.Dynamic) BackOff();
        if (state.ConsecutiveSkips >= Options.MaxConsecutiveSkips)
            throw new LossScaleException(
                $"{state.ConsecutiveSkips} steps in a row had inf/NaN gradients (first non-finite tensor: {Named(state.FirstNonFiniteOfRun)}), " +
                $"so each was skipped; the loss scale is now {state.Scale} ({Options.Mode} scaling). A healthy run overflows on isolated steps, " +
                "not on every step: the loss or the model has diverged. Check the loss and the inputs for inf/NaN, lower the learning rate, " +
                "or keep the overflowing ops in FP32 with [HighPrecision]; if the run is healthy, raise LossScalerOptions.MaxConsecutiveSkips " +
                "(null: never stop).");
    }

    /// <summary>Continues from a saved state; throws if it is not a state a scaler can be in.</summary>
    public void Restore(LossScalerState saved)
    {
        ThrowIfInvalid(saved);
        state = saved;
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="saved"/> is a state a scaler can be in.</summary>
    public static void ThrowIfInvalid(LossScalerState saved)
    {
        ArgumentNullException.ThrowIfNull(saved);
        if (!double.IsFinite(saved.Scale) || saved.Scale <= 0 || saved.GrowthTracker < 0 || saved.HysteresisLeft < 1
            || saved.ConsecutiveSkips < 0 || saved.TotalSkips < saved.ConsecutiveSkips || saved.TotalSteps < saved.TotalSkips)
            throw new ArgumentException(
                $"Loss scaler state {saved} is not valid: the scale must be finite and > 0, hysteresis >= 1, counters non-negative " +
                "and skips no more than steps.", nameof(saved));
    }

    private void Grow()
    {
        var tracker = state.GrowthTracker + 1;
        if (tracker < Options.GrowthInterval)
        {
            state = state with { GrowthTracker = tracker };
            return;
        }
        // PyTorch keeps the scale when growing would overflow float32; DeepSpeed refills hysteresis on growth.
        var grown = (float)Math.Min(state.Scale * Options.GrowthFactor, Options.MaxScale);
        state = state with { Scale = float.IsFinite(grown) ? grown : state.Scale, GrowthTracker = 0, HysteresisLeft = Options.Hysteresis };
    }

    private void BackOff()
    {
        if (state.HysteresisLeft > 1)
        {
            state = state with { GrowthTracker = 0, HysteresisLeft = state.HysteresisLeft - 1 };
            return;
        }
        var backedOff = (float)Math.Max(state.Scale * Options.BackoffFactor, Options.MinScale);
        if (backedOff == 0)
        {
            state = state with { GrowthTracker = 0 };
            throw new LossScaleException(
                $"The loss scale {state.Scale} cannot back off further: ×{Options.BackoffFactor} is below float32's smallest value after " +
                $"{state.ConsecutiveSkips} inf/NaN steps in a row (first non-finite tensor: {Named(state.FirstNonFiniteOfRun)}). " +
                "The loss or the model has diverged: check the loss for inf/NaN and lower the learning rate.");
        }
        state = state with { Scale = backedOff, GrowthTracker = 0 };
    }

    private static string Named(string? tensor) => tensor is null ? "not reported" : $"'{tensor}'";
}
