using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using System;
using Microsoft.Extensions.Logging;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Telemetry;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Scaling;

/// <summary>
/// Loss scaling for a hand-written training loop over plain TorchSharp optimizers, in the shape of
/// PyTorch's <c>torch.amp.GradScaler</c>:
/// <code>
/// var scaler = new GradScaler();
/// foreach (var (x, y) in batches)
/// {
///     using var scope = torch.NewDisposeScope();
///     optimizer.zero_grad();
///     var loss = lossFunction(model.call(x), y);
///     scaler.Scale(loss).backward();
///     scaler.Unscale(optimizer);                     // optional: only to clip or inspect the true gradients
///     nn.utils.clip_grad_norm_(model.parameters(), 1.0);
///     scaler.Step(optimizer);                        // skips the step when a gradient is inf/NaN
///     scaler.Update();
/// }
/// </code>
/// The scale follows <see cref="LossScaler"/> (PyTorch's <c>_amp_update_scale_</c>; defaults from
/// <see cref="LossScalerOptions"/>). <see cref="LossScalingMode.Off"/> is PyTorch's <c>enabled=False</c>:
/// <see cref="Scale"/> returns the loss, <see cref="Step"/> steps, <see cref="Update"/> does nothing.
/// Where this differs from PyTorch: <see cref="LossScalerOptions.MaxConsecutiveSkips"/> inf/NaN steps in a
/// row are an error (<see cref="LossScaleException"/>; null turns it off), and a 16-bit loss is scaled in
/// float32 (2^16 times an FP16 loss overflows FP16). For a model whose parameters are BF16/FP16, use
/// <see cref="MasterWeightOptimizer"/> instead: it keeps FP32 master weights, which a plain optimizer
/// over 16-bit parameters does not.
/// </summary>
/// <remarks>Not thread-safe, as PyTorch's is not: one scaler per training loop.</remarks>
public sealed partial class GradScaler
{
    private readonly Dictionary<optim.Optimizer, OptimizerStep> steps = new(ReferenceEqualityComparer.Instance);
    private readonly ScalingTelemetry telemetry;
    private LossScaler scaler;

    /// <summary>Creates a scaler.</summary>
    /// <param name="options">Scaling settings; default <see cref="LossScalerOptions.Dynamic"/> (PyTorch's GradScaler defaults).</param>
    /// <param name="logger">Receives a message per skipped step and per scale change (<see cref="PrecisionPolicyTelemetry"/> event ids); null: none.</param>
    /// <param name="meterFactory">Where the <see cref="PrecisionPolicyTelemetry.MeterName"/> meter comes from (dependency injection); null: the process-wide meter.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public GradScaler(LossScalerOptions? options = null, ILogger? logger = null, IMeterFactory? meterFactory = null)
    {
        scaler = new LossScaler(options ?? LossScalerOptions.Dynamic);
        telemetry = new ScalingTelemetry(nameof(GradScaler), logger, meterFactory);
    }

    /// <summary>The settings in force (<see cref="load_state_dict"/> replaces the factors and the interval).</summary>
    public LossScalerOptions Options => scaler.Options;

    /// <summary>False when the mode is <see cref="LossScalingMode.Off"/> (PyTorch's <c>enabled=False</c>).</summary>
    public bool IsEnabled => scaler.Enabled;

    /// <summary>Counters and hysteresis of the underlying <see cref="LossScaler"/>, for reports.</summary>
    public LossScalerState State => scaler.State;

    /// <summary>The scale the next <see cref="Scale"/> multiplies by; 1 when disabled (PyTorch's <c>get_scale()</c>).</summary>
    public double GetScale() => IsEnabled ? scaler.Scale : 1.0;

    /// <summary>
    /// The loss times the scale, for <c>backward()</c> (PyTorch's <c>scale(outputs)</c>); the loss itself
    /// when disabled. A BF16/FP16 loss is scaled in float32.
    /// </summary>
    /// <exception cref="ArgumentException">The loss is not a floating-point tensor.</exception>
    public Tensor Scale(Tensor loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        if (!loss.is_floating_point())
            throw new ArgumentException($"The loss is {loss.dtype}: only a floating-point loss can be scaled and backpropagated.", nameof(loss));
        if (!IsEnabled) return loss;
        var wide = loss.dtype is ScalarType.Float32 or ScalarType.Float64 ? loss : loss.to(ScalarType.Float32);
        using var scale = scaler.Scale.ToScalar(); // held: see RootedScalars
        return wide.mul(scale);
    }

    /// <summary>
    /// Divides the gradients of <paramref name="optimizer"/>'s parameters by the scale, in place, and
    /// records whether any is inf/NaN (PyTorch's <c>unscale_(optimizer)</c>): call it before clipping or
    /// inspecting gradients. At most once per optimizer between <see cref="Update"/>s;
    /// <see cref="Step"/> calls it when it was not called. Nothing happens when disabled, or when no
    /// parameter has a gradient yet.
    /// </summary>
    /// <remarks>
    /// The gradients are multiplied by the float32 reciprocal of the scale, as PyTorch's
    /// <c>_amp_foreach_non_finite_check_and_unscale_</c> does: for the power-of-two scales dynamic
    /// scaling produces, that is exactly a division.
    /// </remarks>
    /// <exception cref="InvalidOperationException">Unscale or Step was already called for this optimizer since the last Update.</exception>
    /// <exception cref="ArgumentException">A gradient is FP16 (nothing was changed): train FP16 parameters with <see cref="MasterWeightOptimizer"/>.</exception>
    public void Unscale(optim.Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (!IsEnabled) return;
        if (steps.TryGetValue(optimizer, out var recorded))
            throw new InvalidOperationException(recorded.Stepped
                ? "Unscale(optimizer) was called after Step(optimizer): the step already used these gradients. Call Unscale before Step, once per step."
                : "Unscale(optimizer) was already called on this optimizer since the last Update(): a second call would divide the gradients by the scale twice. " +
                  "Call it once per step, between backward and Step, then Update().");

        using var scope = NewDisposeScope();
        var gradients = GradientsOf(optimizer);
        if (gradients.Count == 0) return; // nothing to unscale or check; Step reports it
        var inverse = (float)(1.0 / scaler.Scale); // PyTorch: scale.double().reciprocal().float()
        if (inverse != 1f)
        {
            using var factor = ((double)inverse).ToScalar();
            using (no_grad())
                foreach (var g in gradients) g.mul_(factor);
        }
        var (finite, norm, first) = GradientListCheck.FiniteNorm(gradients);
        steps[optimizer] = new OptimizerStep(FoundNonFinite: !finite, GradientNorm: norm,
            FirstNonFinite: first < 0 ? null : $"parameter {first} of the optimizer", Stepped: false);
    }

    /// <summary>
    /// Steps <paramref name="optimizer"/> unless its gradients hold an inf or NaN (PyTorch's
    /// <c>step(optimizer)</c>), unscaling them first when <see cref="Unscale"/> was not called. A skipped
    /// step changes no parameter and no optimizer state. Returns true when the optimizer stepped.
    /// When disabled, steps unconditionally.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// Step was already called for this optimizer since the last Update, or none of its parameters has a gradient.
    /// </exception>
    public bool Step(optim.Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (!IsEnabled)
        {
            optimizer.step();
            telemetry.StepApplied(gradientNorm: double.NaN, statistics: null); // no unscale ran, so no norm
            return true;
        }
        if (steps.TryGetValue(optimizer, out var recorded) && recorded.Stepped)
            throw new InvalidOperationException("Step(optimizer) was already called on this optimizer since the last Update(): call Update() once per step, after Step.");
        if (recorded is null)
        {
            Unscale(optimizer);
            steps.TryGetValue(optimizer, out recorded);
        }
        if (recorded is null)
            throw new InvalidOperationException(
                "Step(optimizer): none of the optimizer's parameters has a gradient, so there is nothing to check or apply. " +
                "Call Scale(loss).backward() first (and not zero_grad() between backward and Step).");

        steps[optimizer] = recorded with { Stepped = true };
        if (recorded.FoundNonFinite)
        {
            telemetry.StepSkipped(scaler.Scale, recorded.FirstNonFinite);
            return false;
        }
        optimizer.step();
        telemetry.StepApplied(recorded.GradientNorm, statistics: null);
        return true;
    }

    /// <summary>
    /// Moves the scale at the end of a step (PyTorch's <c>update(new_scale=None)</c>): backs off when any
    /// optimizer unscaled since the last update found an inf/NaN, grows after
    /// <see cref="LossScalerOptions.GrowthInterval"/> clean steps in a row. With <paramref name="newScale"/>,
    /// sets the scale to it instead and leaves the growth tracker as it is (as PyTorch does). Nothing
    /// happens when disabled.
    /// </summary>
    /// <exception cref="InvalidOperationException">No optimizer was unscaled or stepped since the last Update (and no new scale was given).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="newScale"/> is not a finite number &gt; 0 that float32 can hold.</exception>
    /// <exception cref="LossScaleException">Too many inf/NaN steps in a row (see <see cref="LossScalerOptions.MaxConsecutiveSkips"/>); the step is recorded first.</exception>
    public void Update(double? newScale = null)
    {
        if (!IsEnabled) return;
        var previous = scaler.Scale;
        if (newScale is { } requested)
        {
            var held = (float)requested;
            if (!float.IsFinite(held) || held <= 0)
                throw new ArgumentOutOfRangeException(nameof(newScale), requested, "The new scale must be a finite number > 0 that float32 can hold.");
            scaler.Restore(scaler.State with { Scale = held });
            steps.Clear();
            telemetry.ScaleUpdated(previous, scaler.Scale, set: true);
            return;
        }
        if (steps.Count == 0)
            throw new InvalidOperationException(
                "Update() found no inf/NaN check to act on: no optimizer was unscaled or stepped since the last Update(). Call Step(optimizer) (after " +
                "Scale(loss).backward()) before Update(), or pass the new scale.");

        var nonFinite = steps.Values.FirstOrDefault(s => s.FoundNonFinite);
        try
        {
            scaler.Update(foundNonFinite: nonFinite is not null, nonFinite?.FirstNonFinite);
        }
        catch (LossScaleException e)
        {
            telemetry.ScalingStopped(e);
            throw;
        }
        finally
        {
            steps.Clear();
            telemetry.ScaleUpdated(previous, scaler.Scale);
        }
    }

    private static List<Tensor> GradientsOf(optim.Optimizer optimizer)
    {
        var gradients = new List<Tensor>();
        var index = 0;
        foreach (var p in optimizer.parameters())
        {
            var g = p.grad;
            if (g is not null && g.dtype == ScalarType.Float16)
                throw new ArgumentException(
                    $"Parameter {index} of the optimizer has an FP16 gradient: unscaling it in FP16 loses what loss scaling saved, and the optimizer " +
                    "would update FP16 weights directly (PyTorch refuses this too). Keep the parameters in float32 for a plain optimizer, or train " +
                    "16-bit parameters with MasterWeightOptimizer (FP32 master weights). Nothing was changed.", nameof(optimizer));
            if (g is not null) gradients.Add(g);
            index++;
        }
        return gradients;
    }

    /// <summary>What Unscale found for one optimizer since the last Update, and whether Step ran.</summary>
    private sealed record OptimizerStep(bool FoundNonFinite, double GradientNorm, string? FirstNonFinite, bool Stepped);
}
