using System;
using PrecisionPolicy.Casting;
using PrecisionPolicy.CompilerServices;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.Tests.Casting;

/// <summary>Conv and attention in Fp32Accumulate mode equal "round operands, FP32 op, round result" bit for bit.</summary>
[Collection(GemmModeCollection.Name)]
public sealed class Fp32AccumulateConvAttentionTests : IDisposable
{
    private const ScalarType Bf16 = ScalarType.BFloat16;

    public Fp32AccumulateConvAttentionTests() => GemmModes.Override(DeviceType.CPU, GemmMode.Fp32Accumulate);

    public void Dispose() => GemmModes.Override(DeviceType.CPU, null);

    private static Tensor Rounded(Tensor t) => t.to(Bf16).to(ScalarType.Float32);

    private static void AssertBitwiseEqual(Tensor expected, Tensor actual)
    {
        Assert.Equal(Bf16, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.equal(actual).all().item<bool>(), "results differ");
    }

    [Fact]
    public void Conv2d_with_stride_and_groups()
    {
        manual_seed(21);
        using var conv = Conv2d(4, 6, kernel_size: 3, stride: 2, padding: 1, groups: 2);
        conv.to(Bf16);
        using var x = randn(2, 4, 9, 9);
        var expected = functional.conv2d(Rounded(x), conv.weight!.to(ScalarType.Float32), conv.bias!.to(ScalarType.Float32),
            strides: new long[] { 2, 2 }, padding: new long[] { 1, 1 }, groups: 2).to(Bf16);
        AssertBitwiseEqual(expected, PolicyCasts.ConvModule(conv, x, Bf16));
    }

    [Fact]
    public void Conv1d_with_reflect_padding_pads_the_rounded_input_first()
    {
        manual_seed(22);
        using var conv = Conv1d(3, 5, kernel_size: 3, padding: 2, dilation: 2, padding_mode: PaddingModes.Reflect);
        conv.to(Bf16);
        using var x = randn(2, 3, 11);
        var padded = functional.pad(Rounded(x), new long[] { 2, 2 }, PaddingModes.Reflect);
        var expected = functional.conv1d(padded, conv.weight!.to(ScalarType.Float32), conv.bias!.to(ScalarType.Float32), stride: 1, padding: 0, dilation: 2).to(Bf16);
        AssertBitwiseEqual(expected, PolicyCasts.ConvModule(conv, x, Bf16));
    }

    [Fact]
    public void Conv2d_with_same_padding_and_no_bias()
    {
        manual_seed(23);
        using var conv = Conv2d(2, 3, kernel_size: 4, padding: Padding.Same, bias: false);
        conv.to(Bf16);
        using var x = randn(1, 2, 7, 7);
        var expected = functional.conv2d_padding(Rounded(x), conv.weight!.to(ScalarType.Float32), null, padding: Padding.Same).to(Bf16);
        AssertBitwiseEqual(expected, PolicyCasts.ConvModule(conv, x, Bf16));
    }

    [Fact]
    public void Conv_gradients_reach_the_16_bit_weights()
    {
        manual_seed(24);
        using var conv = Conv2d(2, 2, kernel_size: 3);
        conv.to(Bf16);
        using var x = randn(1, 2, 5, 5);
        PolicyCasts.ConvModule(conv, x, Bf16).to(ScalarType.Float32).sum().backward();
        Assert.Equal(Bf16, conv.weight!.grad!.dtype);
        Assert.True(conv.weight.grad.abs().sum().to(ScalarType.Float32).item<float>() > 0);
    }

    [Fact]
    public void Native_mode_is_the_module_call_on_the_input_in_the_weights_dtype()
    {
        GemmModes.Override(DeviceType.CPU, GemmMode.Native);
        manual_seed(25);
        using var conv = Conv2d(2, 2, kernel_size: 3);
        conv.to(Bf16);
        using var x = randn(1, 2, 6, 6);
        AssertBitwiseEqual(conv.call(x.to(Bf16)), PolicyCasts.ConvModule(conv, x, Bf16));
    }

    [Fact]
    public void Attention_with_a_float_mask()
    {
        manual_seed(26);
        using var q = randn(2, 3, 5, 8);
        using var k = randn(2, 3, 5, 8);
        using var v = randn(2, 3, 5, 8);
        using var mask = randn(5, 5);
        var expected = functional.scaled_dot_product_attention(Rounded(q), Rounded(k), Rounded(v), Rounded(mask)).to(Bf16);
        AssertBitwiseEqual(expected, PolicyCasts.ScaledDotProductAttention(q, k, v, mask, 0.0, false, Bf16));
    }

    [Fact]
    public void Attention_causal_with_a_boolean_mask_left_uncast()
    {
        manual_seed(27);
        using var q = randn(1, 2, 6, 4).to(Bf16);
        using var k = randn(1, 2, 6, 4).to(Bf16);
        using var v = randn(1, 2, 6, 4).to(Bf16);
        using var keep = ones(6, 6, dtype: ScalarType.Bool).tril();
        var expected = functional.scaled_dot_product_attention(q.to(ScalarType.Float32), k.to(ScalarType.Float32), v.to(ScalarType.Float32), keep).to(Bf16);
        AssertBitwiseEqual(expected, PolicyCasts.ScaledDotProductAttention(q, k, v, keep, 0.0, false, Bf16));
        var causal = functional.scaled_dot_product_attention(q.to(ScalarType.Float32), k.to(ScalarType.Float32), v.to(ScalarType.Float32), is_casual: true).to(Bf16);
        AssertBitwiseEqual(causal, PolicyCasts.ScaledDotProductAttention(q, k, v, null, 0.0, true, Bf16));
    }
}
