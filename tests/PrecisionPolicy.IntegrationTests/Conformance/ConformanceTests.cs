using System;
using System.Linq;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace PrecisionPolicy.IntegrationTests.Conformance;

/// <summary>
/// Real-model conformance: each model trains under BF16 and FP16 with the loss written outside the
/// model, as a training loop does (<c>cross_entropy(model.call(x), y)</c>); the loss is FP32, every
/// step finite, and the final evaluation loss within 3% of the same model's FP32 run (same seeds,
/// same data; the FP32 run is the same class under <see cref="AutocastScope"/>).
/// </summary>
public sealed class ConformanceTests
{
    private const int Steps = 40;
    private const long Vocabulary = 12;
    private const long Classes = 3;
    private const long Length = 6;
    private const long Batch = 32;
    private readonly ITestOutputHelper output;

    public ConformanceTests(ITestOutputHelper output) => this.output = output;

    [Theory]
    [InlineData(Precision.BF16)]
    [InlineData(Precision.FP16)]
    public void Lstm_classifier_trains_like_fp32(Precision precision) =>
        Compare(nameof(LstmClassifier), precision, () => new LstmClassifier(Vocabulary, 16, Classes).ApplyPrecisionPolicy(),
            model => model.CreateMixedPrecisionOptimizer(ps => optim.Adam(ps, 1e-2)));

    [Theory]
    [InlineData(Precision.BF16)]
    [InlineData(Precision.FP16)]
    public void Embedding_bag_classifier_trains_like_fp32(Precision precision) =>
        Compare(nameof(BagClassifier), precision, () => new BagClassifier(Vocabulary, 16, Classes).ApplyPrecisionPolicy(),
            model => model.CreateMixedPrecisionOptimizer(ps => optim.Adam(ps, 1e-2)));

    [Theory]
    [InlineData(Precision.BF16)]
    [InlineData(Precision.FP16)]
    public void Mlp_whose_children_are_called_with_forward_trains_like_fp32(Precision precision) =>
        Compare(nameof(ForwardCallingMlp), precision, () => new ForwardCallingMlp(Vocabulary, Length, Classes).ApplyPrecisionPolicy(),
            model => model.CreateMixedPrecisionOptimizer(ps => optim.Adam(ps, 1e-2)));

    [Theory]
    [InlineData(Precision.BF16)]
    [InlineData(Precision.FP16)]
    public void Resnet_style_cnn_with_sequential_and_batch_norm_trains_like_fp32(Precision precision) =>
        Compare(nameof(ResidualCnn), precision, () => new ResidualCnn(Vocabulary, 4, Classes).ApplyPrecisionPolicy(),
            model => model.CreateMixedPrecisionOptimizer(ps => optim.Adam(ps, 1e-2)));

    [Theory]
    [InlineData(Precision.BF16)]
    [InlineData(Precision.FP16)]
    public void Depthwise_separable_cnn_trains_like_fp32(Precision precision) =>
        Compare(nameof(SeparableCnn), precision, () => new SeparableCnn(Vocabulary, 4, Classes).ApplyPrecisionPolicy(),
            model => model.CreateMixedPrecisionOptimizer(ps => optim.Adam(ps, 1e-2)));

    [Theory]
    [InlineData(Precision.BF16)]
    [InlineData(Precision.FP16)]
    public void Llama_style_decoder_trains_like_fp32(Precision precision) =>
        Compare(nameof(LlamaDecoder), precision, () => new LlamaDecoder(Vocabulary, 8, 2, Length, Classes).ApplyPrecisionPolicy(),
            model => model.CreateMixedPrecisionOptimizer(ps => optim.Adam(ps, 1e-2)));

    private void Compare<TModel>(string name, Precision precision, Func<TModel> create, Func<TModel, MasterWeightOptimizer> optimizer)
        where TModel : nn.Module<Tensor, Tensor>
    {
        Run fp32;
        using (AutocastScope.Use(Precision.FP32)) fp32 = Train(create, optimizer, out _);
        var reference = fp32.Loss;
        Run run;
        ScalarType lossDtype;
        using (AutocastScope.Use(precision)) run = Train(create, optimizer, out lossDtype);
        var low = run.Loss;
        output.WriteLine($"{name} {precision}: final eval loss {low:F5}, FP32 {reference:F5} ({(low - reference) / reference:P2}); {run.Skipped} of {Steps} steps skipped; " +
                         $"step {run.StepMilliseconds:F2} ms vs FP32 {fp32.StepMilliseconds:F2} ms ({GemmModes.For(DeviceType.CPU, AutocastDtypes.ComputeDtype(precision))})");
        Assert.Equal(ScalarType.Float32, lossDtype);
        Assert.Contains(AutocastDtypes.ComputeDtype(precision), run.WeightDtypes); // the run really was low precision
        Assert.True(reference < Math.Log(Classes) * 0.9, $"the task was learned (FP32 loss {reference:F4}, chance {Math.Log(Classes):F4})");
        Assert.True(Math.Abs(low - reference) / reference < 0.03, $"{precision} {low:F5} vs FP32 {reference:F5}");
    }

    private readonly record struct Run(double Loss, int Skipped, ScalarType[] WeightDtypes, double StepMilliseconds);

    private static Run Train<TModel>(Func<TModel> create, Func<TModel, MasterWeightOptimizer> makeOptimizer, out ScalarType lossDtype)
        where TModel : nn.Module<Tensor, Tensor>
    {
        using var outer = NewDisposeScope();
        manual_seed(13);
        var model = create();
        using var optimizer = makeOptimizer(model);
        var data = new Generator(3);
        lossDtype = ScalarType.Float64;
        var skipped = 0;
        var weightDtypes = model.parameters().Select(p => p.dtype).Distinct().ToArray();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var step = 0; step < Steps; step++)
        {
            using var scope = NewDisposeScope();
            var (x, y) = Batchify(data);
            var loss = nn.functional.cross_entropy(model.call(x), y); // outside the model, as a training loop writes it
            lossDtype = loss.dtype;
            Assert.True(float.IsFinite(loss.item<float>()), $"step {step}: loss {loss.item<float>()}");
            if (!optimizer.Step(loss).Applied) skipped++;
        }
        var stepTime = clock.Elapsed.TotalMilliseconds / Steps;
        using var noGrad = no_grad();
        using var evaluation = NewDisposeScope();
        var (evalX, evalY) = Batchify(new Generator(99), 256);
        return new Run(nn.functional.cross_entropy(model.call(evalX), evalY).item<float>(), skipped, weightDtypes, stepTime);
    }

    /// <summary>
    /// Token sequences of a class: each token is drawn from the class's third of the vocabulary with
    /// probability one half, else from all of it; one label in five is random, so the loss has a floor
    /// well above 0.
    /// </summary>
    private static (Tensor X, Tensor Y) Batchify(Generator generator, long batch = Batch)
    {
        using var scope = NewDisposeScope();
        var labels = randint(0, Classes, new[] { batch }, generator: generator);
        var informative = labels.unsqueeze(1) * (Vocabulary / Classes) + randint(0, Vocabulary / Classes, new[] { batch, Length }, generator: generator);
        var uniform = randint(0, Vocabulary, new[] { batch, Length }, generator: generator);
        var tokens = where(rand(new[] { batch, Length }, generator: generator) < 0.5, informative, uniform);
        var noisy = rand(new[] { batch }, generator: generator) < 0.2;
        var targets = where(noisy, randint(0, Classes, new[] { batch }, generator: generator), labels);
        return (tokens.MoveToOuterDisposeScope(), targets.MoveToOuterDisposeScope());
    }
}
