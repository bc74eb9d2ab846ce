using System.Linq;
using PrecisionPolicy.Casting;
using PrecisionPolicy.CompilerServices;
using PrecisionPolicy.Fp8;
using PrecisionPolicy.Optimization;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Fp8;

public sealed class Fp8GradientTests
{
    private static readonly StepOutcome Applied = new(true, 1.0, 1.0, null, 1);

    /// <summary>x.grad after backward of sum(Operand(x) × g): the gradient arriving at the operand is g.</summary>
    private static Tensor GradientThrough(Fp8Context context, Tensor x, float[] g)
    {
        using (context.Enter())
        {
            var y = Fp8Autocast.Operand(x, "fc1#0");
            (y.to(ScalarType.Float32) * tensor(g)).sum().backward();
        }
        return x.grad!;
    }

    [Fact]
    public void Backward_quantizes_the_incoming_gradient_to_e5m2_at_scale_one_on_the_first_step()
    {
        using var scope = NewDisposeScope();
        var context = new Fp8Context(Fp8Recipe.Default);
        var x = tensor(new[] { 0.3f, 1f, -2f, 5f }, requires_grad: true);
        var grad = GradientThrough(context, x, new[] { 0.3f, 1000f, 7f, 1e-3f });
        // E5M2 spacing: 2^-4 in [0.25, 0.5), 128 in [512, 1024), 1 in [4, 8), 2^-12 in [2^-10, 2^-9).
        Assert.Equal(new[] { 0.3125f, 1024f, 7f, 0.0009765625f }, grad.data<float>().ToArray());
    }

    [Fact]
    public void Gradients_lie_on_the_e5m2_grid_after_unscaling_with_their_own_delayed_scale()
    {
        using var scope = NewDisposeScope();
        var context = new Fp8Context(Fp8Recipe.Default);
        var g = new[] { 0.3f, 7f, -0.01f, 1e-6f, 2.9f };
        GradientThrough(context, tensor(new float[5], requires_grad: true), g);
        context.OnStepEnd(Applied);
        var backward = context.Sites.Single(s => s.Direction == Fp8Direction.Backward);
        Assert.Equal(8192f, backward.Scale); // 57344 / 7: the backward state saw amax 7
        Assert.Equal(Fp8Format.E5M2, backward.Format);

        var grad = GradientThrough(context, tensor(new float[5], requires_grad: true), g);
        var unscaled = grad * 8192f;
        var onGrid = unscaled.to(AutocastDtypes.Float8E5M2).to(ScalarType.Float32);
        Assert.Equal(onGrid.data<float>().ToArray(), unscaled.data<float>().ToArray());
        // 0.3 × 8192 = 2457.6 → 2560 (spacing 512 in [2048, 4096)): quantized, not passed through.
        Assert.Equal(2560f / 8192f, grad[0].item<float>());
        Assert.NotEqual(g, grad.data<float>().ToArray());
    }

    [Fact]
    public void Current_scaling_scales_a_gradient_by_its_own_amax()
    {
        using var scope = NewDisposeScope();
        var context = new Fp8Context(new Fp8Recipe(scaling: Fp8Scaling.Current));
        var grad = GradientThrough(context, tensor(new float[2], requires_grad: true), new[] { 0.3f, 7f });
        // amax 7 → scale 57344 / 7 = 8192 at once: 0.3 × 8192 = 2457.6 → 2560 (spacing 512).
        Assert.Equal(new[] { 2560f / 8192f, 7f }, grad.data<float>().ToArray());
        Assert.Equal(8192f, context.Sites.Single(s => s.Direction == Fp8Direction.Backward).Scale);
    }

    [Fact]
    public void Forward_uses_e4m3_while_backward_of_the_same_site_uses_e5m2()
    {
        using var scope = NewDisposeScope();
        var context = new Fp8Context(Fp8Recipe.Default);
        var x = tensor(new[] { 0.3f }, requires_grad: true);
        using (context.Enter())
        {
            var y = Fp8Autocast.Operand(x, "fc1#0");
            Assert.Equal(0.3125f, y.to(ScalarType.Float32).item<float>()); // E4M3: spacing 2^-5 in [0.25, 0.5): 9.6 → 10
            (y * 0.3f).sum().backward();
        }
        Assert.Equal(0.3125f, x.grad!.item<float>()); // E5M2: spacing 2^-4: 4.8 → 5
        Assert.Equal(new[] { Fp8Format.E4M3, Fp8Format.E5M2 }, context.Sites.Select(s => s.Format).ToArray());
    }

    [Fact]
    public void Bfloat16_operands_get_bfloat16_gradients_and_the_op_sees_the_gemm_modes_dtype()
    {
        using var scope = NewDisposeScope();
        // No override: GemmModes is process-wide and other test classes run in parallel.
        var expected = GemmModes.For(DeviceType.CPU, AutocastDtypes.ComputeDtype(Precision.FP8)) == GemmMode.Fp32Accumulate ? ScalarType.Float32 : AutocastDtypes.ComputeDtype(Precision.FP8);
        var context = new Fp8Context(Fp8Recipe.Default);
        var x = tensor(new[] { 1.5f, -3f }).to(ScalarType.BFloat16).requires_grad_();
        using (context.Enter())
        {
            var y = Fp8Autocast.Operand(x, "fc1#0");
            Assert.Equal(expected, y.dtype);
            y.sum().backward();
        }
        Assert.Equal(ScalarType.BFloat16, x.grad!.dtype);
        Assert.Equal(new[] { 1f, 1f }, x.grad.to(ScalarType.Float32).data<float>().ToArray());
    }

    [Fact]
    public void An_autocast_scope_of_another_precision_turns_fp8_off_and_needs_no_region()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { 0.3f });
        using (AutocastScope.Use(Precision.FP32))
            Assert.Same(x, Fp8Autocast.Operand(x, "fc1#0"));
        using (AutocastScope.Use(Precision.BF16))
        {
            var y = Fp8Autocast.Operand(x, "fc1#0");
            Assert.Equal(Autocast.LowPrecision(x, ScalarType.BFloat16).dtype, y.dtype);
            Assert.Equal(0.30078125f, y.to(ScalarType.Float32).item<float>()); // BF16 rounding, not E4M3's 0.3125
        }
    }

    [Fact]
    public void Float64_and_integer_tensors_pass_through_even_outside_a_region()
    {
        using var scope = NewDisposeScope();
        var d = tensor(new[] { 0.3 });
        var i = tensor(new[] { 3L });
        Assert.Same(d, Fp8Autocast.Operand(d, "fc1#0"));
        Assert.Same(i, Fp8Autocast.Operand(i, "fc1#0"));
    }
}
