using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy.Casting;
using TorchSharp.Modules;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.IntegrationTests.Hooks;

/// <summary>
/// The GEMM mode holds for Linear and Conv2d modules whichever way they are called (an interceptor, or a
/// Sequential that only hooks see), and hooks the user registers on them run on every call in every mode.
/// </summary>
public sealed class GemmModeHookTests
{
    private const long Channels = 16;
    private const long Side = 6;
    private const long Classes = 5;

    [Theory]
    [ClassData(typeof(EachLowPrecision))]
    public void Sequential_layers_compute_bit_for_bit_as_intercepted_ones_in_fp32_accumulate(Precision precision)
    {
        using var scope = NewDisposeScope();
        using var autocast = AutocastScope.Use(precision);
        var compute = AutocastDtypes.ComputeDtype(precision);
        var (conv, fc) = Layers();
        var intercepted = new InterceptedLayers(conv, fc).ApplyPrecisionPolicy();
        var sequential = new SequentialLayers(conv, fc).ApplyPrecisionPolicy();
        var x = randn(3, Channels, Side, Side, generator: new Generator(5));
        using var mode = GemmModeScope.Use(GemmMode.Fp32Accumulate);

        var (viaInterceptors, interceptedGrads) = OutputAndGrads(intercepted, x, conv, fc);
        var (viaHooks, hookGrads) = OutputAndGrads(sequential, x, conv, fc);

        // What Fp32Accumulate means, written out: operands rounded to the compute dtype, FP32 arithmetic, results rounded.
        Tensor Round(Tensor t) => t.to(compute).to(ScalarType.Float32);
        var convOut = nn.functional.conv2d(Round(x), Round(conv.weight), Round(conv.bias!), padding: new long[] { 1, 1 }).to(compute);
        // The outermost policy module hands its output back in FP32 (exact from 16 bits).
        var expected = nn.functional.linear(Round(convOut.flatten(1)), Round(fc.weight), Round(fc.bias!)).to(compute).to(ScalarType.Float32);

        Assert.True(SameBits(expected, viaInterceptors), "the intercepted layers compute as Fp32Accumulate says");
        Assert.True(SameBits(viaInterceptors, viaHooks), "the Sequential's layers compute bit for bit as the intercepted ones");
        for (var i = 0; i < interceptedGrads.Length; i++)
            Assert.True(SameBits(interceptedGrads[i], hookGrads[i]), $"gradient {i} differs between the two paths");
    }

    [Theory]
    [ClassData(typeof(LowPrecisionsInEachGemmMode))]
    public void Hooks_on_an_intercepted_linear_run_on_every_call(Precision precision, GemmMode gemmMode)
    {
        using var scope = NewDisposeScope();
        using var autocast = AutocastScope.Use(precision);
        var compute = AutocastDtypes.ComputeDtype(precision);
        var (conv, fc) = Layers();
        var model = new InterceptedLayers(conv, fc).ApplyPrecisionPolicy();
        using var mode = GemmModeScope.Use(gemmMode);
        var seen = new List<(long[] Input, long[] Result)>();
        long[]? lastInput = null;
        // The pre-hook zeroes the input (a pruning mask, say): the Linear's result is then its bias.
        var pre = fc.register_forward_pre_hook((_, input) =>
        {
            lastInput = input.shape;
            return zeros_like(input);
        });
        var post = fc.register_forward_hook((_, _, result) =>
        {
            seen.Add((lastInput!, result.shape));
            return result + 1;
        });
        var x = randn(3, Channels, Side, Side, generator: new Generator(5));

        for (var call = 0; call < 3; call++)
        {
            var output = model.call(x);
            var expected = (fc.bias!.to(compute).expand(3, Classes) + 1).to(ScalarType.Float32); // the policy hands the output back in FP32
            Assert.True(SameBits(expected, output), $"call {call}: the hooks' changes are the model's output");
        }
        Assert.Equal(3, seen.Count);
        Assert.All(seen, s =>
        {
            Assert.Equal(new[] { 3L, Channels * Side * Side }, s.Input);
            Assert.Equal(new[] { 3L, Classes }, s.Result);
        });

        pre.remove();
        post.remove();
        model.call(x);
        Assert.Equal(3, seen.Count); // removed hooks stay removed
    }

    [Theory]
    [ClassData(typeof(LowPrecisionsInEachGemmMode))]
    public void Hooks_on_a_sequential_convolution_see_the_real_input_and_result(Precision precision, GemmMode gemmMode)
    {
        using var scope = NewDisposeScope();
        using var autocast = AutocastScope.Use(precision);
        var compute = AutocastDtypes.ComputeDtype(precision);
        var (conv, fc) = Layers();
        var model = new SequentialLayers(conv, fc).ApplyPrecisionPolicy();
        using var mode = GemmModeScope.Use(gemmMode);
        var x = randn(3, Channels, Side, Side, generator: new Generator(5));
        var reference = model.call(x);
        var inputs = new List<long[]>();
        var results = new List<(long[] Shape, ScalarType Dtype)>();
        conv.register_forward_pre_hook((_, input) =>
        {
            inputs.Add(input.shape);
            return null!; // unchanged
        });
        conv.register_forward_hook((_, _, result) =>
        {
            results.Add((result.shape, result.dtype));
            return null!;
        });

        for (var call = 0; call < 3; call++)
            Assert.True(SameBits(reference, model.call(x)), $"call {call}: hooks that change nothing change nothing");

        Assert.Equal(3, inputs.Count);
        Assert.All(inputs, shape => Assert.Equal(new[] { 3L, Channels, Side, Side }, shape));
        Assert.All(results, r =>
        {
            Assert.Equal(new[] { 3L, Channels, Side, Side }, r.Shape);
            Assert.Equal(compute, r.Dtype);
        });
        Assert.Equal(3, results.Count);
    }

    // Bit for bit for finite values: the same dtype, shape, values and signs (-0 and +0 differ).
    private static bool SameBits(Tensor a, Tensor b) =>
        a.dtype == b.dtype && a.shape.SequenceEqual(b.shape)
        && a.eq(b).all().item<bool>() && a.signbit().eq(b.signbit()).all().item<bool>();

    private static (Conv2d Conv, Linear Fc) Layers()
    {
        manual_seed(11);
        return (nn.Conv2d(Channels, Channels, 3, padding: 1), nn.Linear(Channels * Side * Side, Classes));
    }

    private static (Tensor Output, Tensor[] Grads) OutputAndGrads(nn.Module<Tensor, Tensor> model, Tensor x, Conv2d conv, Linear fc)
    {
        foreach (var p in model.parameters()) p.grad = null;
        var output = model.call(x);
        output.sum().backward();
        return (output, new[] { conv.weight.grad!, conv.bias!.grad!, fc.weight.grad!, fc.bias!.grad! }.Select(g => g.clone()).ToArray());
    }
}
