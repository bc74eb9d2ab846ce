using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy.Casting;
using TorchSharp.Modules;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using PolicyModules = PrecisionPolicy.Modules;

namespace PrecisionPolicy.IntegrationTests.Composites;

/// <summary>An encoder-decoder block written with the policy-aware composites, under BF16.</summary>
[Autocast(Precision.BF16)]
public sealed partial class CompositeHost : Module<Tensor, Tensor, Tensor>
{
    public const long Width = 8;

    private readonly PolicyModules.TransformerEncoderLayer encoderLayer;
    private readonly PolicyModules.TransformerDecoderLayer decoderLayer;
    private readonly Linear head;

    public CompositeHost() : base(nameof(CompositeHost))
    {
        encoderLayer = new PolicyModules.TransformerEncoderLayer(Width, 2, 16, 0.0);
        decoderLayer = new PolicyModules.TransformerDecoderLayer(Width, 2, 16, 0.0);
        head = Linear(Width, 3);
        RegisterComponents();
    }

    public PolicyModules.TransformerEncoderLayer EncoderLayer => encoderLayer;

    public override Tensor forward(Tensor src, Tensor tgt) => head.call(decoderLayer.call(tgt, encoderLayer.call(src)));
}

/// <summary>Under a low-precision policy the composites' GEMMs run in the compute dtype, their softmax and LayerNorms in FP32.</summary>
public sealed class CompositePolicyTests
{
    [Fact]
    public void Gemm_operands_are_bf16_and_layer_norm_inputs_fp32()
    {
        using var scope = NewDisposeScope();
        using var gemm = GemmModeScope.Use(GemmMode.Native); // the Linear children are called, so their hooks see the operands
        manual_seed(4);
        var model = new CompositeHost().ApplyPrecisionPolicy();
        var dtypes = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.dtype);
        var layer = model.EncoderLayer.named_children().ToDictionary(c => c.name, c => c.module);
        var seen = new List<(string, ScalarType)>();
        foreach (var name in new[] { "linear1", "linear2", "norm1", "norm2" })
        {
            ((Module<Tensor, Tensor>)layer[name]).register_forward_hook((_, input, result) =>
            {
                seen.Add((name, input.dtype));
                return result;
            });
        }
        model.call(randn(4, 2, CompositeHost.Width), randn(3, 2, CompositeHost.Width));

        Assert.Equal(ScalarType.BFloat16, dtypes["encoderLayer.self_attn.in_proj_weight"]);
        Assert.Equal(ScalarType.BFloat16, dtypes["encoderLayer.self_attn.out_proj.weight"]);
        Assert.Equal(ScalarType.BFloat16, dtypes["decoderLayer.multihead_attn.in_proj_weight"]);
        Assert.Equal(ScalarType.BFloat16, dtypes["encoderLayer.linear1.weight"]);
        Assert.Equal(ScalarType.Float32, dtypes["encoderLayer.norm1.weight"]);
        Assert.Equal(ScalarType.Float32, dtypes["decoderLayer.norm3.weight"]);
        Assert.Equal(
            new[] { ("norm1", ScalarType.Float32), ("linear1", ScalarType.BFloat16), ("linear2", ScalarType.BFloat16), ("norm2", ScalarType.Float32) },
            seen);
    }

    [Theory]
    [ClassData(typeof(EachGemmMode))]
    public void Attention_gemms_are_bf16_and_its_softmax_fp32(GemmMode mode)
    {
        using var scope = NewDisposeScope();
        using var gemm = GemmModeScope.Use(mode);
        manual_seed(4);
        var model = new CompositeHost().ApplyPrecisionPolicy();
        var attention = (PolicyModules.MultiheadAttention)model.EncoderLayer.named_children().Single(c => c.name == "self_attn").module;
        var x = randn(5, 2, CompositeHost.Width);
        var (output, weights) = attention.call(x, x, x);
        Assert.Equal(ScalarType.BFloat16, output.dtype); // projections and attention GEMMs write the compute dtype
        Assert.Equal(ScalarType.Float32, weights.dtype);
        // An FP32 softmax sums to 1 within FP32 rounding; a BF16 one misses by ~1e-3.
        Assert.True((weights.sum(-1) - 1).abs().max().item<float>() < 1e-6);
    }

    [Theory]
    [ClassData(typeof(LowPrecisionsInEachGemmMode))]
    public void Forward_and_backward_are_finite_and_the_output_fp32(Precision precision, GemmMode mode)
    {
        using var scope = NewDisposeScope();
        using var gemm = GemmModeScope.Use(mode);
        using var autocast = AutocastScope.Use(precision);
        manual_seed(4);
        var model = new CompositeHost().ApplyPrecisionPolicy();
        var logits = model.call(randn(4, 2, CompositeHost.Width), randn(3, 2, CompositeHost.Width));
        logits.sum().backward();
        Assert.Equal(ScalarType.Float32, logits.dtype);
        Assert.True(logits.isfinite().all().item<bool>());
        Assert.All(model.named_parameters(), p => Assert.True(p.parameter.grad!.isfinite().all().item<bool>(), p.name));
        Assert.Equal(AutocastDtypes.ComputeDtype(precision), model.named_parameters().Single(p => p.name == "encoderLayer.self_attn.in_proj_weight").parameter.dtype);
    }
}
