using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy.Casting;
using PrecisionPolicy.CompilerServices;
using TorchSharp.Modules;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.IntegrationTests.Boundaries;

/// <summary>
/// Boundary hooks for every module arity and tuple shape: modules the interceptors do not cast
/// (the RNN family's hidden states, attention and transformer modules, EmbeddingBag, Bilinear) get
/// their floating inputs in the dtype of their weights.
/// </summary>
public sealed class ArityBoundaryTests
{
    [Theory]
    [ClassData(typeof(LowPrecisionsInEachGemmMode))]
    public void Every_family_runs_forward_and_backward_finite_in_low_precision(Precision precision, GemmMode mode)
    {
        using var scope = NewDisposeScope();
        using var gemm = GemmModeScope.Use(mode);
        using var autocast = AutocastScope.Use(precision);
        manual_seed(7);
        var model = new ArityZoo().ApplyPrecisionPolicy();
        var compute = AutocastDtypes.ComputeDtype(precision);
        var output = model.call(randn(2, 3, ArityZoo.Width));
        output.sum().backward();

        var parameters = model.named_parameters().ToList();
        // The RNN family (cells included) is stored low precision; its hooks cast the hidden states.
        var recurrent = parameters.Where(p => new[] { "lstm", "gru", "rnn" }.Any(family => p.name.StartsWith(family, StringComparison.Ordinal))).ToList();
        Assert.Equal(6 * 4, recurrent.Count);
        Assert.All(recurrent, p => Assert.Equal(compute, p.parameter.dtype));
        Assert.True(output.isfinite().all().item<bool>());
        Assert.All(parameters, p =>
        {
            Assert.NotNull(p.parameter.grad);
            Assert.True(p.parameter.grad!.isfinite().all().item<bool>(), $"{p.name}: non-finite gradient");
        });
    }

    [Fact]
    public void Hidden_states_and_second_inputs_reach_the_module_in_its_weight_dtype()
    {
        using var scope = NewDisposeScope();
        using var gemm = GemmModeScope.Use(GemmMode.Native);
        manual_seed(7);
        var model = new ArityZoo().ApplyPrecisionPolicy();
        var seen = new List<(string Module, ScalarType Input, ScalarType? Hidden)>();
        var modules = model.named_children().ToDictionary(c => c.name, c => c.module);
        ((LSTMCell)modules["lstmCell"]).register_forward_hook((_, input, state, result) =>
        {
            seen.Add(("lstmCell", input.dtype, state?.Item1.dtype));
            return result;
        });
        ((LSTM)modules["lstm"]).register_forward_hook((_, input, state, result) =>
        {
            seen.Add(("lstm", input.dtype, state?.Item2.dtype));
            return result;
        });
        ((GRUCell)modules["gruCell"]).register_forward_hook((_, input, hidden, result) =>
        {
            seen.Add(("gruCell", input.dtype, hidden.dtype));
            return result;
        });
        ((Bilinear)modules["bilinear"]).register_forward_hook((_, a, b, result) =>
        {
            seen.Add(("bilinear", a.dtype, b.dtype));
            return result;
        });
        model.call(randn(2, 3, ArityZoo.Width));
        Assert.Equal(
            new (string, ScalarType, ScalarType?)[]
            {
                ("lstm", ScalarType.BFloat16, ScalarType.BFloat16),
                ("lstmCell", ScalarType.BFloat16, ScalarType.BFloat16),
                ("gruCell", ScalarType.BFloat16, ScalarType.BFloat16),
                ("bilinear", ScalarType.BFloat16, ScalarType.BFloat16),
            },
            seen);
    }

    [Fact]
    public void Forward_inputs_are_cast_by_the_modules_run_time_boundary()
    {
        using var scope = NewDisposeScope();
        var model = new ArityZoo().ApplyPrecisionPolicy();
        var modules = model.named_children().ToDictionary(c => c.name, c => c.module);
        var state = (zeros(2, ArityZoo.Width), zeros(2, ArityZoo.Width));
        var cast = PolicyCasts.ForwardInput<(Tensor, Tensor)?>(modules["lstmCell"], state);
        var plain = nn.Linear(2, 2);
        Assert.Equal(ScalarType.BFloat16, ModulePolicy.BoundaryDtype(modules["head"]));
        Assert.Equal((ScalarType.BFloat16, ScalarType.BFloat16), (cast!.Value.Item1.dtype, cast.Value.Item2.dtype));
        Assert.Null(ModulePolicy.BoundaryDtype(plain)); // never under a policy: forward inputs stay as they are
        Assert.Equal(ScalarType.Float32, PolicyCasts.ForwardInput(plain, ones(2)).dtype);
    }
}
