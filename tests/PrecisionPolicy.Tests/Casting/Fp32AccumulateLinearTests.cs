using System;
using PrecisionPolicy.Casting;
using PrecisionPolicy.CompilerServices;
using PrecisionPolicy.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.Tests.Casting;

/// <summary>
/// A Linear module call in Fp32Accumulate mode: the output and every gradient equal the composite
/// "round operands, widen, FP32 linear, round result" bit for bit, and backward keeps the 16-bit operands.
/// </summary>
[Collection(GemmModeCollection.Name)]
public sealed class Fp32AccumulateLinearTests : IDisposable
{
    private const ScalarType Bf16 = ScalarType.BFloat16;

    public Fp32AccumulateLinearTests() => GemmModes.Override(DeviceType.CPU, GemmMode.Fp32Accumulate);

    public void Dispose() => GemmModes.Override(DeviceType.CPU, null);

    private static void AssertBitwiseEqual(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.equal(actual).all().item<bool>(), what + " differs");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Output_and_gradients_equal_the_widened_composite_bit_for_bit(bool hasBias)
    {
        manual_seed(31);
        using var layer = Linear(24, 40, hasBias: hasBias);
        layer.to(Bf16);
        var x = randn(3, 5, 24).requires_grad_(true); // FP32 input, as a LayerNorm hands it over
        var upstream = randn(3, 5, 40).to(Bf16);

        var y = PolicyCasts.LinearModule(layer, x, Bf16);
        y.backward([upstream]);
        var (gx, gw, gb) = (x.grad!.clone(), layer.weight!.grad!.clone(), layer.bias?.grad?.clone());
        x.grad!.zero_();
        layer.zero_grad();

        var widened = functional.linear(x.to(Bf16).to(ScalarType.Float32), layer.weight!.to(ScalarType.Float32), layer.bias?.to(ScalarType.Float32)).to(Bf16);
        widened.backward([upstream]);

        AssertBitwiseEqual(widened, y, "output");
        AssertBitwiseEqual(x.grad!, gx, "input gradient");
        AssertBitwiseEqual(layer.weight!.grad!, gw, "weight gradient");
        if (hasBias) AssertBitwiseEqual(layer.bias!.grad!, gb!, "bias gradient");
        else Assert.Null(gb);
    }

    [Fact]
    public void Backward_keeps_the_bf16_input_so_changing_it_in_place_fails_the_optimizer_step_not_the_process()
    {
        // The node saves the 16-bit activation itself (not an FP32 copy), so autograd's version check sees an
        // in-place change after forward; the failure cannot leave the C# backward, so it comes back from Backward.
        manual_seed(32);
        using var layer = Linear(8, 4);
        layer.to(Bf16);
        using var opt = new MasterWeightOptimizer(layer, ps => optim.SGD(ps, 0.1));
        var x = randn(2, 8).to(Bf16).requires_grad_(true);
        var input = x.mul(2); // a non-leaf 16-bit activation
        var y = PolicyCasts.LinearModule(layer, input, Bf16);
        using (no_grad()) input.add_(1);
        var error = Assert.Throws<InvalidOperationException>(() => opt.Backward(y.to(ScalarType.Float32).sum()));
        Assert.Contains("modified by an inplace operation", error.Message);
        Assert.Equal(0, opt.PendingMicroBatches);
        Assert.Equal(0.0, opt.GradientOf("weight").abs().sum().item<float>());
        opt.Backward(PolicyCasts.LinearModule(layer, x.mul(2), Bf16).to(ScalarType.Float32).sum()); // nothing of the failure is left over
        Assert.Equal(1, opt.PendingMicroBatches);
    }
}
