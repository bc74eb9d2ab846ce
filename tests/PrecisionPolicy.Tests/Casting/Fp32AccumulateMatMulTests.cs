using System;
using PrecisionPolicy.Casting;
using PrecisionPolicy.CompilerServices;
using PrecisionPolicy.Optimization;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.Tests.Casting;

/// <summary>
/// matmul and bmm in Fp32Accumulate mode: the output and both gradients equal the composite
/// "round operands, widen, FP32 op, round result" bit for bit, and backward keeps the 16-bit operands.
/// </summary>
[Collection(GemmModeCollection.Name)]
public sealed class Fp32AccumulateMatMulTests : IDisposable
{
    private const ScalarType Bf16 = ScalarType.BFloat16;

    public Fp32AccumulateMatMulTests() => GemmModes.Override(DeviceType.CPU, GemmMode.Fp32Accumulate);

    public void Dispose() => GemmModes.Override(DeviceType.CPU, null);

    private static void AssertBitwiseEqual(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.equal(actual).all().item<bool>(), what + " differs");
    }

    // The left operand arrives in FP32 (as a softmax hands it over), the right one in BF16.
    private static void AssertMatchesComposite(long[] leftShape, long[] rightShape, Func<Tensor, Tensor, Tensor> node, Func<Tensor, Tensor, Tensor> op)
    {
        manual_seed(41);
        var left = randn(leftShape).requires_grad_(true);
        var right = randn(rightShape).to(Bf16).requires_grad_(true);

        var y = node(left, right);
        var upstream = randn(y.shape).to(Bf16);
        y.backward([upstream]);
        var (gl, gr) = (left.grad!.clone(), right.grad!.clone());
        left.grad!.zero_();
        right.grad!.zero_();

        var composite = Autocast.LowPrecisionResult(op(Autocast.LowPrecision(left, Bf16), Autocast.LowPrecision(right, Bf16)), Bf16);
        composite.backward([upstream]);

        AssertBitwiseEqual(composite, y, "output");
        AssertBitwiseEqual(left.grad!, gl, "left gradient");
        AssertBitwiseEqual(right.grad!, gr, "right gradient");
    }

    [Theory]
    [InlineData(new long[] { 6, 8 }, new long[] { 8, 5 })] // plain GEMM
    [InlineData(new long[] { 2, 3, 7, 8 }, new long[] { 2, 3, 8, 7 })] // attention's q·kᵀ
    [InlineData(new long[] { 4, 6, 8 }, new long[] { 8, 5 })] // batch folded into one GEMM
    [InlineData(new long[] { 2, 1, 6, 8 }, new long[] { 3, 8, 5 })] // batch dimensions broadcast both ways
    [InlineData(new long[] { 8 }, new long[] { 3, 8, 5 })] // 1-D left operand
    [InlineData(new long[] { 3, 6, 8 }, new long[] { 8 })] // 1-D right operand
    public void Matmul_output_and_gradients_equal_the_widened_composite_bit_for_bit(long[] leftShape, long[] rightShape) =>
        AssertMatchesComposite(leftShape, rightShape, (l, r) => PolicyCasts.MatMul(l, r, Bf16), (l, r) => l.matmul(r));

    [Fact]
    public void Bmm_output_and_gradients_equal_the_widened_composite_bit_for_bit() =>
        AssertMatchesComposite([3, 6, 8], [3, 8, 5], (l, r) => PolicyCasts.Bmm(l, r, Bf16), (l, r) => l.bmm(r));

    [Fact]
    public void Fp8_region_matmul_under_a_bf16_scope_equals_the_widened_composite_bit_for_bit()
    {
        // A BF16 reference run of an FP8 model: nothing is quantized, the site is the one-node matmul.
        using var scope = AutocastScope.Use(Precision.BF16);
        AssertMatchesComposite([2, 3, 7, 8], [2, 3, 8, 7], (l, r) => PolicyCasts.Fp8MatMul(l, r, "Test#left", "Test#right", Bf16), (l, r) => l.matmul(r));
    }

    [Fact]
    public void Matmul_keeps_the_bf16_operand_so_changing_it_in_place_fails_the_optimizer_step_not_the_process()
    {
        // The node saves the 16-bit activation itself (not an FP32 copy), so autograd's version check sees an
        // in-place change after forward (the composite saves an FP32 copy and would not notice); the failure cannot leave the C# backward, so it comes back from Backward.
        manual_seed(43);
        using var layer = Linear(8, 4);
        layer.to(Bf16);
        using var opt = new MasterWeightOptimizer(layer, ps => optim.SGD(ps, 0.1));
        var x = randn(2, 8).to(Bf16).requires_grad_(true);
        var input = x.mul(2); // a non-leaf 16-bit activation
        var y = PolicyCasts.MatMul(input, layer.weight!.t(), Bf16);
        using (no_grad()) input.add_(1);
        var error = Assert.Throws<InvalidOperationException>(() => opt.Backward(y.to(ScalarType.Float32).sum()));
        Assert.Contains("matmul", error.Message);
        Assert.Contains("modified by an inplace operation", error.Message);
        Assert.Equal(0, opt.PendingMicroBatches);
        Assert.Equal(0.0, opt.GradientOf("weight").abs().sum().item<float>());
        opt.Backward(PolicyCasts.MatMul(x.mul(2), layer.weight!.t(), Bf16).to(ScalarType.Float32).sum()); // nothing of the failure is left over
        Assert.Equal(1, opt.PendingMicroBatches);
    }
}
