using System.Collections.Generic;
using System.IO;
using System.Linq;
using System;
using PrecisionPolicy.Scaling;
using TorchSharp.Modules;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Scaling;

/// <summary>
/// <see cref="GradScaler"/> in a hand-written loop over a plain TorchSharp optimizer, against the
/// semantics of PyTorch's torch.amp.GradScaler (scale, unscale_, step, update).
/// </summary>
public sealed class GradScalerTests : IDisposable
{
    private readonly DisposeScope scope = NewDisposeScope();

    public void Dispose() => scope.Dispose();

    /// <summary>One FP32 parameter; the loss (w·x).sum() gives the gradient x (times the scale).</summary>
    internal sealed class Loop
    {
        public Loop(GradScaler scaler, Func<IEnumerable<Parameter>, optim.Optimizer>? optimizer = null)
        {
            Scaler = scaler;
            W = new Parameter(tensor(new[] { 0.5f, -1.25f }), requires_grad: true);
            Optimizer = (optimizer ?? (ps => optim.SGD(ps, 0.125)))(new[] { W });
        }

        public GradScaler Scaler { get; }
        public Parameter W { get; }
        public optim.Optimizer Optimizer { get; }

        /// <summary>Zero grad, scaled backward of a loss whose gradient is <paramref name="x"/>.</summary>
        public void Backward(params float[] x)
        {
            Optimizer.zero_grad();
            Scaler.Scale((W * tensor(x)).sum()).backward();
        }

        /// <summary>A whole step; returns whether the optimizer stepped.</summary>
        public bool Iterate(bool overflow)
        {
            Backward(overflow ? new[] { 3f, float.PositiveInfinity } : new[] { 3f, 4f });
            var stepped = Scaler.Step(Optimizer);
            Scaler.Update();
            return stepped;
        }
    }

    internal static LossScalerOptions Interval2 => LossScalerOptions.Dynamic with { InitialScale = 1024, GrowthInterval = 2 };

    [Fact]
    public void Scale_follows_pytorch_gradscaler_for_a_scripted_overflow_pattern()
    {
        // torch.amp.GradScaler(init_scale=1024, growth_interval=2): an overflow halves the scale and resets
        // the tracker, two clean steps in a row double it.
        var loop = new Loop(new GradScaler(Interval2));
        var pattern = new[] { false, false, true, false, true, false, false, false, false };
        var scales = new List<double>();
        var stepped = new List<bool>();
        foreach (var overflow in pattern)
        {
            stepped.Add(loop.Iterate(overflow));
            scales.Add(loop.Scaler.GetScale());
        }
        Assert.Equal(new double[] { 1024, 2048, 1024, 1024, 512, 512, 1024, 1024, 2048 }, scales);
        Assert.Equal(pattern.Select(o => !o), stepped);
        Assert.Equal(2, loop.Scaler.State.TotalSkips);
    }

    [Fact]
    public void Scale_multiplies_the_loss_by_the_scale_in_float32()
    {
        var scaler = new GradScaler(Interval2);
        var loss = tensor(0.75f).to(ScalarType.BFloat16);
        var scaled = scaler.Scale(loss);
        Assert.Equal(ScalarType.Float32, scaled.dtype);
        Assert.Equal(0.75f * 1024, scaled.item<float>());
    }

    [Fact]
    public void A_skipped_step_leaves_parameters_and_optimizer_state_bitwise_unchanged()
    {
        var loop = new Loop(new GradScaler(Interval2), ps => optim.Adam(ps, 0.1));
        Assert.True(loop.Iterate(overflow: false)); // Adam now has moments and a step count
        var weights = Bytes(loop.W);
        var state = InnerState((OptimizerHelper)loop.Optimizer);

        loop.Backward(float.NaN, 1f);
        Assert.False(loop.Scaler.Step(loop.Optimizer));
        loop.Scaler.Update();

        Assert.Equal(weights, Bytes(loop.W));
        Assert.Equal(state, InnerState((OptimizerHelper)loop.Optimizer));
        Assert.Equal(512, loop.Scaler.GetScale());
    }

    [Fact]
    public void Unscale_divides_the_gradients_by_a_power_of_two_scale_exactly()
    {
        var loop = new Loop(new GradScaler(LossScalerOptions.Dynamic));
        loop.Backward(3.1f, -7.000001f);
        var scaled = loop.W.grad!.clone();
        loop.Scaler.Unscale(loop.Optimizer);
        Assert.Equal(Bytes(scaled / 65536f), Bytes(loop.W.grad!));
        Assert.Equal(new[] { 3.1f, -7.000001f }, loop.W.grad!.data<float>().ToArray());
    }

    [Fact]
    public void Unscale_multiplies_by_the_float32_reciprocal_of_a_scale_that_is_not_a_power_of_two()
    {
        // PyTorch: inv_scale = scale.double().reciprocal().float(), then grad * inv_scale.
        var loop = new Loop(new GradScaler(Interval2));
        loop.Scaler.Update(newScale: 3);
        loop.Backward(1f, 10f);
        var scaled = loop.W.grad!.clone();
        loop.Scaler.Unscale(loop.Optimizer);
        Assert.Equal(Bytes(scaled * (float)(1.0 / 3)), Bytes(loop.W.grad!));
    }

    [Fact]
    public void Step_unscales_when_unscale_was_not_called_and_the_optimizer_sees_true_gradients()
    {
        var loop = new Loop(new GradScaler(Interval2), ps => optim.SGD(ps, 0.5));
        loop.Backward(2f, -4f);
        Assert.True(loop.Scaler.Step(loop.Optimizer));
        Assert.Equal(new[] { 0.5f - 0.5f * 2f, -1.25f + 0.5f * 4f }, loop.W.data<float>().ToArray());
    }

    [Fact]
    public void A_second_unscale_before_update_is_an_invalid_operation_and_divides_nothing()
    {
        var loop = new Loop(new GradScaler(Interval2));
        loop.Backward(1f, 2f);
        loop.Scaler.Unscale(loop.Optimizer);
        var once = Bytes(loop.W.grad!);
        var error = Assert.Throws<InvalidOperationException>(() => loop.Scaler.Unscale(loop.Optimizer));
        Assert.Contains("already called", error.Message);
        Assert.Equal(once, Bytes(loop.W.grad!));
    }

    [Fact]
    public void Unscale_after_step_and_a_second_step_are_invalid_operations()
    {
        var loop = new Loop(new GradScaler(Interval2));
        loop.Backward(1f, 2f);
        loop.Scaler.Step(loop.Optimizer);
        Assert.Contains("after Step", Assert.Throws<InvalidOperationException>(() => loop.Scaler.Unscale(loop.Optimizer)).Message);
        Assert.Contains("already called", Assert.Throws<InvalidOperationException>(() => loop.Scaler.Step(loop.Optimizer)).Message);
        loop.Scaler.Update();
        Assert.True(loop.Iterate(overflow: false)); // the next step starts clean
    }

    [Fact]
    public void Update_without_a_step_and_step_without_gradients_are_invalid_operations()
    {
        var loop = new Loop(new GradScaler(Interval2));
        Assert.Contains("no inf/NaN check", Assert.Throws<InvalidOperationException>(() => loop.Scaler.Update()).Message);
        Assert.Contains("none of the optimizer's parameters has a gradient", Assert.Throws<InvalidOperationException>(() => loop.Scaler.Step(loop.Optimizer)).Message);
        Assert.Equal(1024, loop.Scaler.GetScale());
    }

    [Fact]
    public void Fp16_gradients_are_refused_before_any_is_divided()
    {
        var scaler = new GradScaler(Interval2);
        var w32 = new Parameter(tensor(new[] { 1f, 2f }), requires_grad: true);
        var w16 = new Parameter(tensor(new[] { 1f, 2f }).to(ScalarType.Float16), requires_grad: true);
        using var optimizer = optim.SGD(new[] { w32, w16 }, 0.1);
        scaler.Scale((w32.sum() + w16.to(ScalarType.Float32).sum()) * 0.5f).backward();
        var before = Bytes(w32.grad!);
        var error = Assert.Throws<ArgumentException>(() => scaler.Unscale(optimizer));
        Assert.Contains("FP16 gradient", error.Message);
        Assert.Equal(before, Bytes(w32.grad!));
    }

    [Fact]
    public void Update_with_a_new_scale_sets_it_and_keeps_the_growth_tracker()
    {
        var loop = new Loop(new GradScaler(Interval2));
        loop.Iterate(overflow: false); // tracker 1
        loop.Scaler.Update(newScale: 64);
        Assert.Equal(64, loop.Scaler.GetScale());
        Assert.Equal(1, loop.Scaler.State.GrowthTracker);
        loop.Iterate(overflow: false); // tracker reaches the interval: grows
        Assert.Equal(128, loop.Scaler.GetScale());
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.Scaler.Update(newScale: double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.Scaler.Update(newScale: 1e39));
        Assert.Equal(128, loop.Scaler.GetScale());
    }

    [Fact]
    public void A_disabled_scaler_passes_the_loss_through_and_always_steps()
    {
        var loop = new Loop(new GradScaler(LossScalerOptions.Off));
        var loss = tensor(2.5f);
        Assert.Same(loss, loop.Scaler.Scale(loss));
        Assert.Equal(1.0, loop.Scaler.GetScale());
        Assert.False(loop.Scaler.IsEnabled);
        loop.Backward(float.PositiveInfinity, 1f);
        loop.Scaler.Unscale(loop.Optimizer); // nothing to do, as in PyTorch with enabled=False
        Assert.True(loop.Scaler.Step(loop.Optimizer));
        loop.Scaler.Update();
        Assert.Empty(loop.Scaler.state_dict());
    }

    [Fact]
    public void Too_many_overflows_in_a_row_end_the_run_after_the_scale_is_updated()
    {
        var loop = new Loop(new GradScaler(Interval2 with { MaxConsecutiveSkips = 2 }));
        loop.Iterate(overflow: true);
        Assert.Throws<LossScaleException>(() => loop.Iterate(overflow: true));
        Assert.Equal(256, loop.Scaler.GetScale());
        Assert.True(loop.Iterate(overflow: false)); // the per-step state was cleared: the loop can go on
    }

    internal static byte[] Bytes(Tensor t)
    {
        using var cpu = t.detach().cpu().contiguous();
        return cpu.bytes.ToArray();
    }

    private static byte[] InnerState(OptimizerHelper optimizer)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) optimizer.save_state_dict(writer);
        return buffer.ToArray();
    }
}
