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

        Assert.True(TensorBits.Same(expected, viaInterceptors), "the intercepted layers compute as Fp32Accumulate says");
        Assert.True(TensorBits.Same(viaInterceptors, viaHooks), "the Sequential's layers compute bit for bit as the intercepted ones");
        for (var i = 0; i < interceptedGrads.Length; i++)
            Assert.True(TensorBits.Same(interceptedGrads[i], hookGrads[i]), $"gradient {i} differs between the two paths");
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
            Assert.True(TensorBits.Same(expected, output), $"call {call}: the hooks' changes are the model's output");
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
    public void Forward_hooks_on_sequential_layers_see_the_real_input_and_result(Precision precision, GemmMode gemmMode) =>
        ForwardHooksSeeTheRealInputAndResult(precision, gemmMode, (conv, fc) => new SequentialLayers(conv, fc).ApplyPrecisionPolicy());

    [Theory]
    [ClassData(typeof(LowPrecisionsInEachGemmMode))]
    public void Forward_hooks_on_intercepted_layers_see_the_real_input_and_result(Precision precision, GemmMode gemmMode) =>
        ForwardHooksSeeTheRealInputAndResult(precision, gemmMode, (conv, fc) => new InterceptedLayers(conv, fc).ApplyPrecisionPolicy());

    // TorchSharp hands a forward hook the input as the last pre-hook left it: a layer with a forward hook of the user's
    // runs its own forward on the real input in every GEMM mode, so the hooks see what they would without the policy.
    private static void ForwardHooksSeeTheRealInputAndResult(
        Precision precision, GemmMode gemmMode, Func<Conv2d, Linear, nn.Module<Tensor, Tensor>> build)
    {
        using var scope = NewDisposeScope();
        using var autocast = AutocastScope.Use(precision);
        var compute = AutocastDtypes.ComputeDtype(precision);
        var (conv, fc) = Layers();
        var convSeen = new LayerHooks(conv, "conv");
        var fcSeen = new LayerHooks(fc, "fc");
        convSeen.RegisterForwardHook(); // before ApplyPrecisionPolicy
        fcSeen.RegisterForwardHook();
        var model = build(conv, fc);
        convSeen.RegisterPreHook(); // after it
        fcSeen.RegisterPreHook();
        convSeen.RegisterForwardHook();
        fcSeen.RegisterForwardHook();
        using var mode = GemmModeScope.Use(gemmMode);
        var x = randn(3, Channels, Side, Side, generator: new Generator(5));

        const int calls = 3;
        var outputs = Enumerable.Range(0, calls).Select(_ => model.call(x)).ToArray();

        // Without the policy's GEMM mode: the layers' own forward on the inputs in the compute dtype.
        var convIn = x.to(compute);
        var convOut = conv.forward(convIn);
        var fcIn = convOut.flatten(1);
        var fcOut = fc.forward(fcIn);
        convSeen.AssertSaw(calls, convIn, convOut);
        fcSeen.AssertSaw(calls, fcIn, fcOut);
        for (var call = 0; call < calls; call++)
        {
            // The result the hooks saw is what the layer returned: the conv's is the fc's input, the fc's the model's output.
            Assert.True(TensorBits.Same(fcSeen.PreInputs[call], convSeen.Results[0][call].flatten(1)), $"call {call}: the conv's result is what the fc received");
            Assert.True(TensorBits.Same(fcSeen.Results[0][call].to(ScalarType.Float32), outputs[call]), $"call {call}: the fc's result is the model's output");
        }
    }

    // A pre-hook and forward hooks on one layer, each keeping what it saw (hooks that change nothing).
    private sealed class LayerHooks(nn.Module<Tensor, Tensor> layer, string name)
    {
        public readonly List<Tensor> PreInputs = new();
        public readonly List<List<Tensor>> Inputs = new();
        public readonly List<List<Tensor>> Results = new();

        public void RegisterPreHook() => layer.register_forward_pre_hook((_, input) =>
        {
            PreInputs.Add(input.detach().clone());
            return null!;
        });

        public void RegisterForwardHook()
        {
            var inputs = new List<Tensor>();
            var results = new List<Tensor>();
            Inputs.Add(inputs);
            Results.Add(results);
            layer.register_forward_hook((_, input, result) =>
            {
                inputs.Add(input.detach().clone());
                results.Add(result.detach().clone());
                return null!;
            });
        }

        public void AssertSaw(int calls, Tensor input, Tensor result)
        {
            Assert.Equal(calls, PreInputs.Count);
            Assert.All(PreInputs, seen => Assert.True(TensorBits.Same(input, seen), $"{name}: the pre-hook saw {Shape(seen)}, not the real input {Shape(input)}"));
            for (var hook = 0; hook < Inputs.Count; hook++)
            {
                Assert.Equal(calls, Inputs[hook].Count);
                foreach (var seen in Inputs[hook])
                    Assert.True(TensorBits.Same(input, seen), $"{name}: forward hook {hook} saw {Shape(seen)}, not the real input {Shape(input)}");
                foreach (var seen in Results[hook])
                    Assert.True(TensorBits.Same(result, seen), $"{name}: forward hook {hook} saw a result other than the layer's forward");
            }
        }

        private static string Shape(Tensor t) => $"[{string.Join(",", t.shape)}] {t.dtype}";
    }

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
