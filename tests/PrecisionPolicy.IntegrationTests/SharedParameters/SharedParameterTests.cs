using System;
using System.Linq;
using PrecisionPolicy.Casting;
using PrecisionPolicy.Optimization;
using TorchSharp;
using Xunit.Abstractions;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.IntegrationTests.SharedParameters;

/// <summary>
/// Parameter identity under the policy: a parameter shared by several modules stays one tensor after
/// <c>ApplyPrecisionPolicy()</c>, with one storage dtype (float32 when any owner is float32), one master and one
/// update per step, listed once.
/// </summary>
public sealed class SharedParameterTests
{
    private const long Vocabulary = 11;
    private const long Width = 16;
    private const long Context = 6;
    private const int Steps = 12;
    private readonly ITestOutputHelper output;

    public SharedParameterTests(ITestOutputHelper output) => this.output = output;

    [Fact]
    public void Tied_gpt_on_the_fp32_path_trains_bit_for_bit_as_plain_torchsharp_adamw()
    {
        using var scope = NewDisposeScope();
        using var autocast = AutocastScope.Use(Precision.FP32);
        var plainLosses = Train(model => Plain(optim.AdamW(model.parameters(), 1e-2)));
        var toolkitLosses = Train(model => Toolkit(model.CreateMixedPrecisionOptimizer(ps => optim.AdamW(ps, 1e-2))));
        output.WriteLine($"plain: {string.Join(", ", plainLosses.Select(l => l.ToString("F6")))}");
        output.WriteLine($"toolkit: {string.Join(", ", toolkitLosses.Select(l => l.ToString("F6")))}");
        Assert.True(toolkitLosses[^1] < toolkitLosses[0] * 0.8, "the model learns");
        // Bit for bit: one master, one AdamW update per step, as plain TorchSharp steps the one tensor.
        for (var i = 0; i < Steps; i++)
            Assert.True(toolkitLosses[i] == plainLosses[i], $"step {i}: toolkit {toolkitLosses[i]} vs plain {plainLosses[i]}");
    }

    [Theory]
    [ClassData(typeof(LowPrecisionsInEachGemmMode))]
    public void Tied_gpt_keeps_one_tensor_master_and_update_in_low_precision(Precision precision, GemmMode mode)
    {
        using var scope = NewDisposeScope();
        using var gemm = GemmModeScope.Use(mode);
        using var autocast = AutocastScope.Use(precision);
        manual_seed(3);
        var model = new TiedGpt(Vocabulary, Width, Context).ApplyPrecisionPolicy();
        var names = model.named_parameters().Select(p => p.name).ToArray();
        Assert.Contains("tokenEmbedding.weight", names);
        Assert.DoesNotContain("lmHead.weight", names); // listed once, under its first owner
        Assert.Equal(ScalarType.Float32, model.HeadWeight.dtype); // the rule: FP32 when an owner (the embedding) is FP32
        Assert.Equal(AutocastDtypes.ComputeDtype(precision), model.named_parameters().First(p => p.name == "up.weight").parameter.dtype);
        Assert.Single(model.GetPrecisionManifest().Entries, e => e.Member.EndsWith("tokenEmbedding.weight", StringComparison.Ordinal) || e.Member.EndsWith("lmHead.weight", StringComparison.Ordinal));

        using var optimizer = model.CreateMixedPrecisionOptimizer(ps => optim.AdamW(ps, 1e-2));
        Assert.Equal(names, optimizer.ParameterNames);
        var generator = new Generator(4);
        for (var step = 0; step < Steps; step++)
        {
            using var stepScope = NewDisposeScope();
            var (x, y) = Batch(generator);
            Assert.True(optimizer.Step(Loss(model, x, y)).Applied || precision == Precision.FP16, $"step {step} skipped");
        }
        // One tensor: what the head multiplies by is what the embedding looks up, after every update.
        Assert.True(model.HeadWeight.eq(model.EmbeddingWeight).all().item<bool>(), "the head and the embedding were untied");
        Assert.True(optimizer.MasterOf("tokenEmbedding.weight").eq(model.HeadWeight).all().item<bool>(), "one master holds the tied weight");
    }

    [Fact]
    public void A_module_used_twice_is_stored_once_in_float32_when_one_use_is_high_precision()
    {
        using var scope = NewDisposeScope();
        var model = new TwiceUsedLinear(Width).ApplyPrecisionPolicy();
        Assert.Equal(ScalarType.Float32, model.SharedWeight.dtype);
        Assert.Equal(ScalarType.BFloat16, model.named_parameters().First(p => p.name == "output.weight").parameter.dtype);
        var names = model.named_parameters().Select(p => p.name).ToArray();
        Assert.Equal(new[] { "first.weight", "first.bias", "output.weight", "output.bias" }, names);
        using var optimizer = model.CreateMixedPrecisionOptimizer(ps => optim.SGD(ps, 0.1));
        var before = model.SharedWeight.clone();
        optimizer.Step(model.call(randn(4, Width)).square().mean());
        Assert.False(before.eq(model.SharedWeight).all().item<bool>(), "the shared weight is stepped");
        Assert.Equal(names, optimizer.ParameterNames);
    }

    private interface IStepper : IDisposable
    {
        float Step(Tensor loss);
    }

    private static IStepper Plain(optim.Optimizer optimizer) => new PlainStepper(optimizer);

    private static IStepper Toolkit(MasterWeightOptimizer optimizer) => new ToolkitStepper(optimizer);

    private sealed class PlainStepper(optim.Optimizer optimizer) : IStepper
    {
        public float Step(Tensor loss)
        {
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            return loss.item<float>();
        }

        public void Dispose() => optimizer.Dispose();
    }

    private sealed class ToolkitStepper(MasterWeightOptimizer optimizer) : IStepper
    {
        public float Step(Tensor loss) => (float)optimizer.Step(loss).Loss!.Value;

        public void Dispose() => optimizer.Dispose();
    }

    private static float[] Train(Func<TiedGpt, IStepper> makeOptimizer)
    {
        manual_seed(3);
        var model = new TiedGpt(Vocabulary, Width, Context).ApplyPrecisionPolicy();
        using var optimizer = makeOptimizer(model);
        var generator = new Generator(4);
        var losses = new float[Steps];
        for (var step = 0; step < Steps; step++)
        {
            using var scope = NewDisposeScope();
            var (x, y) = Batch(generator);
            losses[step] = optimizer.Step(Loss(model, x, y));
        }
        return losses;
    }

    // Next token = token + 1 (mod vocabulary): learnable in a few steps.
    private static (Tensor X, Tensor Y) Batch(Generator generator)
    {
        var x = randint(0, Vocabulary, new long[] { 8, Context }, generator: generator);
        return (x, (x + 1).remainder(Vocabulary));
    }

    private static Tensor Loss(TiedGpt model, Tensor x, Tensor y) =>
        nn.functional.cross_entropy(model.call(x).reshape(-1, Vocabulary), y.reshape(-1));
}
