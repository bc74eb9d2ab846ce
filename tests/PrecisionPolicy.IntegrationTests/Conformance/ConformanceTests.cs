using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy.Casting;
using PrecisionPolicy.Optimization;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace PrecisionPolicy.IntegrationTests.Conformance;

/// <summary>
/// Real-model conformance: each model trains under BF16 and FP16 with the loss written outside the
/// model, as a training loop does (<c>cross_entropy(model.call(x), y)</c>); the loss is FP32, every
/// step finite, and the final evaluation loss within 3% of the same model's FP32 run (same seeds,
/// same data; the FP32 run is the same class under <see cref="AutocastScope"/>). Before training, one
/// forward of a fresh model records the dtype every leaf module computes in and compares it with the
/// PyTorch-autocast reference table (autocast-reference.tsv, rendered into docs/cast-policy.md).
/// </summary>
public sealed class ConformanceTests
{
    private const int Steps = 40;
    private const long Vocabulary = ConformanceData.Vocabulary;
    private const long Classes = ConformanceData.Classes;
    private const long Length = ConformanceData.Length;
    private const long Batch = 32;
    private readonly ITestOutputHelper output;

    public ConformanceTests(ITestOutputHelper output) => this.output = output;

    [Theory]
    [ClassData(typeof(EachLowPrecision))]
    public void Lstm_classifier_trains_like_fp32(Precision precision) =>
        Compare(nameof(LstmClassifier), precision, () => new LstmClassifier(Vocabulary, 16, Classes), m => m.ApplyPrecisionPolicy(),
            model => model.CreateMixedPrecisionOptimizer(ps => optim.Adam(ps, 1e-2)));

    [Theory]
    [ClassData(typeof(EachLowPrecision))]
    public void Embedding_bag_classifier_trains_like_fp32(Precision precision) =>
        Compare(nameof(BagClassifier), precision, () => new BagClassifier(Vocabulary, 16, Classes), m => m.ApplyPrecisionPolicy(),
            model => model.CreateMixedPrecisionOptimizer(ps => optim.Adam(ps, 1e-2)));

    [Theory]
    [ClassData(typeof(EachLowPrecision))]
    public void Mlp_whose_children_are_called_with_forward_trains_like_fp32(Precision precision) =>
        Compare(nameof(ForwardCallingMlp), precision, () => new ForwardCallingMlp(Vocabulary, Length, Classes), m => m.ApplyPrecisionPolicy(),
            model => model.CreateMixedPrecisionOptimizer(ps => optim.Adam(ps, 1e-2)));

    [Theory]
    [ClassData(typeof(EachLowPrecision))]
    public void Resnet_style_cnn_with_sequential_and_batch_norm_trains_like_fp32(Precision precision) =>
        Compare(nameof(ResidualCnn), precision, () => new ResidualCnn(Vocabulary, ConformanceData.ConvChannels, Classes), m => m.ApplyPrecisionPolicy(),
            model => model.CreateMixedPrecisionOptimizer(ps => optim.Adam(ps, 1e-2)));

    [Theory]
    [ClassData(typeof(EachLowPrecision))]
    public void Depthwise_separable_cnn_trains_like_fp32(Precision precision) =>
        Compare(nameof(SeparableCnn), precision, () => new SeparableCnn(Vocabulary, ConformanceData.ConvChannels, Classes), m => m.ApplyPrecisionPolicy(),
            model => model.CreateMixedPrecisionOptimizer(ps => optim.Adam(ps, 1e-2)));

    [Theory]
    [ClassData(typeof(EachLowPrecision))]
    public void Llama_style_decoder_trains_like_fp32(Precision precision) =>
        Compare(nameof(LlamaDecoder), precision, () => new LlamaDecoder(Vocabulary, 8, 2, Length, Classes), m => m.ApplyPrecisionPolicy(),
            model => model.CreateMixedPrecisionOptimizer(ps => optim.Adam(ps, 1e-2)));

    [Theory]
    [ClassData(typeof(EachLowPrecision))]
    public void Encoder_decoder_of_torchsharp_transformer_layers_trains_like_fp32(Precision precision) =>
        Compare(nameof(EncoderDecoderClassifier), precision, () => new EncoderDecoderClassifier(Vocabulary, 16, 2, Classes), m => m.ApplyPrecisionPolicy(),
            model => model.CreateMixedPrecisionOptimizer(ps => optim.Adam(ps, 1e-2)));

    [Theory]
    [ClassData(typeof(EachLowPrecision))]
    public void Torchvision_mobilenet_v2_as_a_child_trains_like_fp32(Precision precision) =>
        Compare(nameof(VisionClassifier), precision, () => new VisionClassifier(Classes), m => m.ApplyPrecisionPolicy(),
            model => model.CreateMixedPrecisionOptimizer(ps => optim.Adam(ps, 3e-3)), ConformanceData.Images, batch: 16);

    // Models exercising where the policy is decided at run time (MechanismModels.cs).

    [Theory]
    [ClassData(typeof(EachLowPrecision))]
    public void Nullable_input_layers_called_with_forward_train_like_fp32(Precision precision) =>
        Compare(nameof(NullableForwardClassifier), precision, () => new NullableForwardClassifier(Vocabulary, 8, Classes), m => m.ApplyPrecisionPolicy(),
            model => model.CreateMixedPrecisionOptimizer(ps => optim.Adam(ps, 1e-2)));

    [Theory]
    [ClassData(typeof(EachLowPrecision))]
    public void Helper_einsum_over_a_parameter_trains_like_fp32(Precision precision) =>
        Compare(nameof(HelperEinsumClassifier), precision, () => new HelperEinsumClassifier(Vocabulary, 8, Classes), m => m.ApplyPrecisionPolicy(),
            model => model.CreateMixedPrecisionOptimizer(ps => optim.Adam(ps, 1e-2)));

    [Theory]
    [ClassData(typeof(EachLowPrecision))]
    public void Tied_embedding_and_head_train_like_fp32_and_stay_tied(Precision precision) =>
        Compare(nameof(TiedHeadClassifier), precision, () => new TiedHeadClassifier(Vocabulary, 8, Classes), m => m.ApplyPrecisionPolicy(),
            model => model.CreateMixedPrecisionOptimizer(ps => optim.Adam(ps, 1e-2)),
            verify: model => model.named_parameters().Count(p => p.name.EndsWith("weight", StringComparison.Ordinal)) == 3 &&
                             model.named_modules().Where(m => m.name is "embedding" or "decoder").Select(m => LeafDtypeRecorder.Address(m.module.named_parameters().Single().parameter)).Distinct().Count() == 1
                ? null : "the embedding and the decoder no longer share one weight");

    [Theory]
    [ClassData(typeof(EachLowPrecision))]
    public void Custom_call_that_runs_forward_directly_trains_like_fp32(Precision precision) =>
        Compare(nameof(CustomCallClassifier), precision, () => new CustomCallClassifier(Vocabulary, 16, Classes), m => m.ApplyPrecisionPolicy(),
            model => model.CreateMixedPrecisionOptimizer(ps => optim.Adam(ps, 1e-2)), invoke: static (model, x) => model.call(x));

    [Theory]
    [ClassData(typeof(EachLowPrecision))]
    public void Loop_that_clips_with_clip_grad_norm_trains_like_fp32(Precision precision) =>
        Compare(nameof(ForwardCallingMlp) + " (clip_grad_norm_ loop)", precision, () => new ForwardCallingMlp(Vocabulary, Length, Classes), m => m.ApplyPrecisionPolicy(),
            model => model.CreateMixedPrecisionOptimizer(ps => optim.Adam(ps, 1e-2)), clipNorm: 0.5);

    [Theory]
    [ClassData(typeof(EachLowPrecision))]
    public void Hooks_the_user_registered_on_intercepted_linears_run_and_train_like_fp32(Precision precision) =>
        Compare(nameof(HookedMlp), precision, () => new HookedMlp(Vocabulary, Length, Classes), m => m.ApplyPrecisionPolicy(),
            model => model.CreateMixedPrecisionOptimizer(ps => optim.Adam(ps, 1e-2)),
            verify: model => model.HookCalls == model.Forwards && model.Forwards > 0 ? null : $"the pre-hook ran {model.HookCalls} times in {model.Forwards} forwards");

    private void Compare<TModel>(string name, Precision precision, Func<TModel> create, Func<TModel, TModel> apply,
        Func<TModel, MasterWeightOptimizer> optimizer, ConformanceData.Batches? data = null, long batch = Batch,
        Func<TModel, Tensor, Tensor>? invoke = null, double? clipNorm = null, Func<TModel, string?>? verify = null)
        where TModel : nn.Module<Tensor, Tensor>
    {
        data ??= ConformanceData.Tokens;
        var loop = new Loop<TModel>(invoke ?? (static (model, x) => model.call(x)), clipNorm, verify);
        // Convergence is compared over five seeds, by the median of the per-seed relative differences: one
        // 40-step run is chaotic enough that the FP32 and the 16-bit trajectories of a single seed can part by
        // more than the tolerance on one CPU and not on another (seen: the LSTM's 7% on an AVX512 machine).
        var fp32 = new List<Run>();
        var low = new List<Run>();
        var lossDtype = ScalarType.Float64;
        IReadOnlyList<string> wrong;
        IReadOnlyList<LeafDtypeRecorder.LeafCall> decisions;
        foreach (var seed in Seeds)
        {
            using (AutocastScope.Use(Precision.FP32)) fp32.Add(Train(() => apply(create()), optimizer, data, batch, seed, loop, out _));
        }
        using (AutocastScope.Use(precision))
        {
            (decisions, wrong) = RecordLeafDtypes(create, apply, data, AutocastDtypes.ComputeDtype(precision));
            foreach (var seed in Seeds) low.Add(Train(() => apply(create()), optimizer, data, batch, seed, loop, out lossDtype));
        }
        var differences = low.Zip(fp32, static (l, f) => (l.Loss - f.Loss) / f.Loss).ToList();
        var median = differences.OrderBy(static d => d).ElementAt(differences.Count / 2);
        var reference = fp32.Select(static r => r.Loss).OrderBy(static l => l).ElementAt(fp32.Count / 2);
        var run = low[0];
        var inferred = decisions.Count(d => d.Inferred) is var n and > 0 ? $" ({n} inferred: called with forward())" : "";
        output.WriteLine($"{name} {precision}: dtype decisions {decisions.Count - wrong.Count}/{decisions.Count}{inferred}; loss {lossDtype}; " +
                         $"final eval loss vs FP32 per seed {string.Join(", ", low.Zip(fp32, static (l, f) => $"{l.Loss:F5}/{f.Loss:F5}"))} (median {median:P2}); " +
                         $"{run.Skipped} of {Steps} steps skipped; step {run.StepMilliseconds:F2} ms vs FP32 {fp32[0].StepMilliseconds:F2} ms ({GemmModes.For(DeviceType.CPU, AutocastDtypes.ComputeDtype(precision))})");
        foreach (var mismatch in wrong) output.WriteLine("  wrong dtype: " + mismatch);
        Assert.NotEmpty(decisions);
        Assert.Empty(wrong);
        Assert.Equal(ScalarType.Float32, lossDtype);
        Assert.Contains(AutocastDtypes.ComputeDtype(precision), run.WeightDtypes); // the run really was low precision
        var lowMedian = low.Select(static r => r.Loss).OrderBy(static l => l).ElementAt(low.Count / 2);
        Assert.True(lowMedian < Math.Log(Classes) * 0.9, $"the task was learned under {precision} (median loss {lowMedian:F4}, chance {Math.Log(Classes):F4})");
        // One-sided: mixed precision must not train worse than FP32. On an AVX512-BF16 CPU the FP32 references of some of
        // these models (LSTM, the BatchNorm CNNs) train worse than the 16-bit runs, or vary from run to run (seen on
        // the commit before this one too); a 16-bit run ending lower is not a precision failure.
        Assert.True(median < 0.03, $"{precision} vs FP32 (median {reference:F4}), median relative difference {median:P2} over seeds {string.Join(", ", Seeds)}: {string.Join(", ", differences.Select(static d => d.ToString("P2", System.Globalization.CultureInfo.InvariantCulture)))}");
    }

    private static readonly int[] Seeds = { 13, 14, 15, 16, 17 };

    /// <summary>
    /// One forward of a fresh model with every leaf call recorded (<see cref="LeafDtypeRecorder"/>) and compared
    /// with autocast-reference.tsv. GEMM mode Native for that forward: in Fp32Accumulate the interceptors run a
    /// Linear or Conv call as a functional op, which no module hook sees.
    /// </summary>
    private static (IReadOnlyList<LeafDtypeRecorder.LeafCall> Decisions, IReadOnlyList<string> Wrong) RecordLeafDtypes<TModel>(Func<TModel> create, Func<TModel, TModel> apply,
        ConformanceData.Batches data, ScalarType compute)
        where TModel : nn.Module<Tensor, Tensor>
    {
        using var scope = NewDisposeScope();
        var model = create();
        var recorder = LeafDtypeRecorder.Before(model);
        apply(model);
        recorder.AfterPolicy();
        using var gemm = GemmModeScope.Use(GemmMode.Native);
        model.call(data(new Generator(3), 4).X).sum().backward(); // the backward shows which leaves ran without a hook
        recorder.InferUnhookedCalls();
        return (recorder.Calls, recorder.Mismatches(compute));
    }

    private readonly record struct Run(double Loss, int Skipped, ScalarType[] WeightDtypes, double StepMilliseconds);

    /// <summary>How the training loop calls the model, whether it clips with <c>clip_grad_norm_</c> between Backward and Step, and what it checks after training.</summary>
    private sealed record Loop<TModel>(Func<TModel, Tensor, Tensor> Invoke, double? ClipNorm, Func<TModel, string?>? Verify);

    private static Run Train<TModel>(Func<TModel> create, Func<TModel, MasterWeightOptimizer> makeOptimizer, ConformanceData.Batches data, long batch, int seed, Loop<TModel> loop, out ScalarType lossDtype)
        where TModel : nn.Module<Tensor, Tensor>
    {
        using var outer = NewDisposeScope();
        manual_seed(seed);
        var model = create();
        using var optimizer = makeOptimizer(model);
        var generator = new Generator((ulong)(seed - 10));
        lossDtype = ScalarType.Float64;
        var skipped = 0;
        var weightDtypes = model.parameters().Select(p => p.dtype).Distinct().ToArray();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var step = 0; step < Steps; step++)
        {
            using var scope = NewDisposeScope();
            var (x, y) = data(generator, batch);
            var loss = nn.functional.cross_entropy(loop.Invoke(model, x), y); // outside the model, as a training loop writes it
            lossDtype = loss.dtype;
            Assert.True(float.IsFinite(loss.item<float>()), $"step {step}: loss {loss.item<float>()}");
            StepOutcome outcome;
            if (loop.ClipNorm is { } clip)
            {
                // The loop as its author wrote it: backward, TorchSharp's clipping, step.
                optimizer.Backward(loss);
                nn.utils.clip_grad_norm_(model.parameters(), clip);
                outcome = optimizer.Step();
            }
            else
            {
                outcome = optimizer.Step(loss);
            }
            if (!outcome.Applied) skipped++;
        }
        var stepTime = clock.Elapsed.TotalMilliseconds / Steps;
        using var noGrad = no_grad();
        using var evaluation = NewDisposeScope();
        var (evalX, evalY) = data(new Generator(99), 256);
        var evaluated = nn.functional.cross_entropy(loop.Invoke(model, evalX), evalY).item<float>();
        if (loop.Verify?.Invoke(model) is { } failure) Assert.Fail(failure);
        return new Run(evaluated, skipped, weightDtypes, stepTime);
    }
}
