using System;
using System.Linq;
using PrecisionPolicy.Casting;
using PrecisionPolicy.Lora;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Quantization;
using PrecisionPolicy.Tests.Casting;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.Tests.Quantization;

/// <summary>
/// The NF4 Linear and a LoRA layer over it: forward is the GEMM against the dequantized weight under the GEMM
/// mode, backward reaches the input and nothing else of the base, calls outside interceptors (hooks) agree.
/// </summary>
[Collection(GemmModeCollection.Name)]
public sealed class Nf4LinearTests : IDisposable
{
    public void Dispose() => GemmModes.Override(DeviceType.CPU, null);

    private static void AssertBitwise(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.equal(actual).all().item<bool>(), what + " differs");
    }

    // The reference: the GEMM of the same 16-bit operands as the mode computes it.
    private static Tensor Reference(Tensor x, Tensor w, GemmMode mode) =>
        x.dtype != ScalarType.Float32 && mode == GemmMode.Fp32Accumulate
            ? functional.linear(x.to(ScalarType.Float32), w.to(ScalarType.Float32)).to(x.dtype)
            : functional.linear(x, w);

    [Theory]
    [InlineData(GemmMode.Fp32Accumulate, ScalarType.BFloat16)]
    [InlineData(GemmMode.Native, ScalarType.BFloat16)]
    [InlineData(GemmMode.Native, ScalarType.Float32)]
    public void Forward_and_input_gradient_are_the_gemms_of_the_dequantized_weight(GemmMode mode, ScalarType compute)
    {
        GemmModes.Override(DeviceType.CPU, mode);
        manual_seed(3);
        var weight = randn(24, 40);
        using var layer = new Nf4Linear(weight, bias: null) { ComputeDtype = compute };
        var x = randn(3, 5, 40).to(compute).requires_grad_(true);
        var y = layer.call(x);
        var w = layer.Weight.Dequantize(compute);
        AssertBitwise(Reference(x.detach(), w, mode), y.detach(), "output");

        var upstream = randn(3, 5, 24).to(compute);
        y.backward([upstream]);
        var expected = compute != ScalarType.Float32 && mode == GemmMode.Fp32Accumulate
            ? upstream.to(ScalarType.Float32).matmul(w.to(ScalarType.Float32)).to(compute)
            : upstream.matmul(w);
        AssertBitwise(expected, x.grad!, "input gradient");
        Assert.Empty(layer.parameters());
    }

    [Fact]
    public void The_compute_dtype_follows_the_scope_then_the_input()
    {
        using var layer = new Nf4Linear(randn(8, 16), randn(8));
        Assert.Equal(ScalarType.Float32, layer.call(randn(2, 16)).dtype);
        Assert.Equal(ScalarType.BFloat16, layer.call(randn(2, 16).to(ScalarType.BFloat16)).dtype);
        using (AutocastScope.Use(Precision.BF16)) Assert.Equal(ScalarType.BFloat16, layer.call(randn(2, 16)).dtype);
        Assert.False(layer.Bias!.requires_grad);
        Assert.Contains("16 input features", Assert.Throws<ArgumentException>(() => layer.call(randn(2, 15))).Message);
    }

    [Theory]
    [InlineData(GemmMode.Fp32Accumulate)]
    [InlineData(GemmMode.Native)]
    public void A_qlora_layer_called_through_its_hooks_equals_base_plus_scaled_adapters(GemmMode mode)
    {
        GemmModes.Override(DeviceType.CPU, mode);
        manual_seed(7);
        var model = Sequential(("0", Linear(16, 32)), ("1", ReLU()), ("2", Linear(32, 8)));
        model.to(ScalarType.BFloat16);
        var first = (Linear)model.named_children().First().module;
        var biasBefore = first.bias!.detach().clone();
        var layers = model.AttachLora(new LoraOptions { Rank = 4, Alpha = 8, Dropout = 0, TargetModules = ["0"] });
        var lora = Assert.Single(layers);
        Assert.Equal("0", lora.Name);
        Assert.Equal(ScalarType.BFloat16, lora.ComputeDtype);
        // Only the adapters train; the base weight is an empty placeholder, its values in NF4 buffers.
        Assert.Equal(new[] { "0.lora_A.weight", "0.lora_B.weight" }, model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name));
        Assert.Equal(0, first.weight!.numel());
        Assert.Contains(model.named_buffers(), b => b.name == "0.nf4.codes");

        using (no_grad()) lora.Up.weight!.normal_();
        var x = randn(4, 16).to(ScalarType.BFloat16);
        var y = first.call(x); // a plain module call: the hooks path
        var w = lora.Nf4Base!.Weight.Dequantize(ScalarType.BFloat16);
        var expected = Reference(x, w, mode).add(biasBefore)
            .add(Reference(Reference(x, lora.Down.weight!, mode), lora.Up.weight!, mode).mul(2.0)); // alpha / r = 2
        AssertBitwise(expected, y.detach(), "adapted output");
        AssertBitwise(expected, lora.Forward(x).detach(), "Forward");

        model.call(x).sum().backward();
        Assert.NotNull(lora.Down.weight!.grad);
        Assert.NotNull(lora.Up.weight!.grad);
        Assert.Null(first.bias!.grad);
    }

    [Fact]
    public void A_master_weight_optimizer_over_the_nf4_base_is_refused()
    {
        var model = Sequential(("0", Linear(16, 16)));
        model.AttachLora(new LoraOptions { TargetModules = ["0"] });
        foreach (var p in model.parameters()) p.requires_grad = true; // the mistake: unfreezing the base
        var e = Assert.Throws<ArgumentException>(() => new MasterWeightOptimizer(model, ps => optim.AdamW(ps, 1e-3)));
        Assert.Contains("NF4 base weight of '0'", e.Message);
    }

    [Fact]
    public void Bad_targets_are_clear_errors_and_change_nothing()
    {
        var model = Sequential(("0", Linear(16, 16)), ("1", ReLU()));
        Assert.Contains("Its Linear layers: 0", Assert.Throws<ArgumentException>(() => model.AttachLora(new LoraOptions { TargetModules = ["q"] })).Message);
        Assert.Contains("Linear layers only", Assert.Throws<ArgumentException>(() => model.AttachLora(new LoraOptions { TargetModules = ["1"] })).Message);
        Assert.Throws<ArgumentException>(() => model.AttachLora(new LoraOptions()));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.AttachLora(new LoraOptions { Rank = 0, TargetModules = ["0"] }));
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad));
        Assert.Equal(256, model.parameters().First().numel());
        model.AttachLora(new LoraOptions { TargetModules = ["0"] });
        Assert.Contains("already has LoRA", Assert.Throws<InvalidOperationException>(() => model.AttachLora(new LoraOptions { TargetModules = ["0"] })).Message);
    }
}
