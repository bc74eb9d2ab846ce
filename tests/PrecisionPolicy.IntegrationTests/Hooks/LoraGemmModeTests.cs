using PrecisionPolicy.Casting;
using PrecisionPolicy.Lora;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.IntegrationTests.Hooks;

/// <summary>
/// A LoRA-adapted Linear that only hooks reach (a Sequential's child) under <see cref="GemmMode.Fp32Accumulate"/>:
/// the GEMM-mode hooks take the base GEMM over (it used to run the native 16-bit kernel, ~8× slower here for FP16),
/// and the adapter branch still reads the real input, so the output is the base's FP32-accumulated result plus the
/// adapters' branch, bit for bit as written out below.
/// </summary>
public sealed class LoraGemmModeTests
{
    private const long Width = 12;
    private const int Rank = 4;

    [Theory]
    [ClassData(typeof(EachLowPrecision))]
    public void Lora_linear_in_a_sequential_runs_the_base_gemm_as_fp32_accumulate_and_adds_its_branch(Precision precision)
    {
        using var scope = NewDisposeScope();
        using var autocast = AutocastScope.Use(precision);
        var compute = AutocastDtypes.ComputeDtype(precision);
        manual_seed(3);
        var model = new SequentialLoraNet(Width).ApplyPrecisionPolicy();
        var layer = Assert.Single(model.AttachLora(new LoraOptions { Rank = Rank, TargetModules = ["fc"], QuantizeBase = false, Dropout = 0 }));
        using (no_grad()) layer.Up.weight!.copy_(randn(Width, Rank, generator: new Generator(4)).mul(0.1)); // a branch that adds something
        var x = randn(5, Width, generator: new Generator(5));
        using var mode = GemmModeScope.Use(GemmMode.Fp32Accumulate);

        var first = model.call(x);
        var second = model.call(x); // the same on every call

        Tensor Round(Tensor t) => t.to(compute).to(ScalarType.Float32);
        Tensor Gemm(Tensor input, Tensor weight, Tensor? bias = null) =>
            nn.functional.linear(Round(input), Round(weight), bias is null ? null : Round(bias)).to(compute);
        var fc = layer.Target;
        var baseOutput = Gemm(x, fc.weight!, fc.bias);
        var branch = Gemm(Gemm(x, layer.Down.weight!), layer.Up.weight!).mul(layer.Options.Scaling);
        var expected = baseOutput.add(branch).to(ScalarType.Float32);

        Assert.True(branch.abs().max().to(ScalarType.Float32).item<float>() > 0, "the adapter branch adds something");
        Assert.True(TensorBits.Same(expected, first), $"max diff {expected.sub(first).abs().max().item<float>()}, base-only diff {baseOutput.to(ScalarType.Float32).sub(first).abs().max().item<float>()}, branch max {branch.abs().max().to(ScalarType.Float32).item<float>()}: base GEMM in Fp32Accumulate plus the adapter branch of the real input");
        Assert.True(TensorBits.Same(first, second), "every call computes the same");

        first.sum().backward();
        Assert.NotNull(layer.Down.weight!.grad);
        Assert.True(layer.Up.weight!.grad!.abs().sum().to(ScalarType.Float32).item<float>() > 0, "the adapters get gradients through the hooks");
    }
}

/// <summary>A Linear inside a Sequential: no interceptor sees its call.</summary>
[Autocast(Precision.BF16)]
public sealed partial class SequentialLoraNet : nn.Module<Tensor, Tensor>
{
    private readonly Sequential body;

    public SequentialLoraNet(long width) : base(nameof(SequentialLoraNet))
    {
        body = nn.Sequential(("fc", nn.Linear(width, width)));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => body.call(x);
}
