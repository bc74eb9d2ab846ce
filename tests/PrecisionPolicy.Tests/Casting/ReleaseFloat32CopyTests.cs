using System;
using PrecisionPolicy.CompilerServices;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.Tests.Casting;

/// <summary>
/// <see cref="Autocast.ReleaseFloat32Copy"/>, which generated interceptors call after an FP32 op: the widened copy
/// of a 16-bit input goes as soon as the op returns, and the op's output and gradients stay what they were.
/// </summary>
public sealed class ReleaseFloat32CopyTests
{
    [Fact]
    public void The_float32_copy_of_a_16_bit_input_is_freed_and_the_input_and_result_stay()
    {
        using var input = randn(4, 6).to(ScalarType.BFloat16);
        var widened = Autocast.Float32(input);
        using var result = functional.softmax(widened, -1);
        Autocast.ReleaseFloat32Copy(widened, input, result);
        Assert.True(widened.IsInvalid);
        Assert.False(input.IsInvalid);
        Assert.Equal(1.0f, result.sum(-1).mean().item<float>(), 5);
    }

    [Fact]
    public void Nothing_is_freed_when_no_copy_was_made_or_the_op_returned_it()
    {
        using var fp32 = randn(4, 6);
        var same = Autocast.Float32(fp32);
        Assert.Same(fp32, same);
        Autocast.ReleaseFloat32Copy(same, fp32, fp32.exp());
        Assert.False(fp32.IsInvalid);

        using var bf16 = randn(4, 6).to(ScalarType.BFloat16);
        using var widened = Autocast.Float32(bf16);
        Autocast.ReleaseFloat32Copy(widened, bf16, widened);
        Assert.False(widened.IsInvalid);

        Autocast.ReleaseFloat32Copy(null, null, fp32);
    }

    public static TheoryData<string, ScalarType> Ops => new()
    {
        { "softmax", ScalarType.BFloat16 }, // backward needs the output only: the copy is freed at once
        { "log_softmax", ScalarType.Float16 },
        { "layer_norm", ScalarType.BFloat16 }, // backward needs the input: autograd keeps the copy alive
        { "pow", ScalarType.Float16 },
        { "cross_entropy", ScalarType.BFloat16 },
    };

    private static Tensor Op(string op, Tensor x) => op switch
    {
        "softmax" => functional.softmax(x, -1),
        "log_softmax" => functional.log_softmax(x, -1),
        "layer_norm" => functional.layer_norm(x, [6]),
        "pow" => x.pow(3),
        _ => functional.cross_entropy(x, tensor(new long[] { 0, 5, 2, 3 }), reduction: Reduction.None),
    };

    [Theory]
    [MemberData(nameof(Ops))]
    public void Output_and_gradients_are_bit_for_bit_those_of_the_op_that_keeps_its_copy(string op, ScalarType dtype)
    {
        manual_seed(61);
        var x = randn(4, 6).to(dtype).requires_grad_(true);

        var kept = Op(op, Autocast.Float32(x));
        var upstream = randn_like(kept);
        kept.backward([upstream]);
        var keptGradient = x.grad!.clone();
        x.grad!.zero_();

        var widened = Autocast.Float32(x);
        var released = Op(op, widened);
        Autocast.ReleaseFloat32Copy(widened, x, released);
        Assert.True(widened.IsInvalid);
        GC.Collect(); // nothing of the copy may depend on the released handle
        GC.WaitForPendingFinalizers();
        released.backward([upstream]);

        Assert.Equal(ScalarType.Float32, released.dtype);
        Assert.True(kept.equal(released).all().item<bool>(), "output differs");
        Assert.Equal(dtype, x.grad!.dtype);
        Assert.True(keptGradient.equal(x.grad!).all().item<bool>(), "gradient differs");
    }
}
