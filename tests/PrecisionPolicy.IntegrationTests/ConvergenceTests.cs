using System;
using System.Diagnostics;
using System.Linq;
using PrecisionPolicy.Casting;
using PrecisionPolicy.CompilerServices;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace PrecisionPolicy.IntegrationTests;

/// <summary>
/// A small causal transformer trained with the generated BF16 policy reaches the FP32 run's final
/// loss within 2%. The FP32 reference is the same class under <see cref="AutocastScope"/>
/// (Precision.FP32), same seeds and data.
/// </summary>
public sealed class ConvergenceTests
{
    private const long Vocabulary = 16;
    private const long Context = 12;
    private const long Batch = 32;
    private const int Steps = 400;
    private readonly ITestOutputHelper output;

    public ConvergenceTests(ITestOutputHelper output) => this.output = output;

    [Fact]
    public void Bf16_transformer_reaches_the_fp32_final_loss_within_two_percent()
    {
        var clock = Stopwatch.StartNew();
        // One intra-op thread: tiny ops gain nothing from two, and on a loaded box spinning workers
        // multiply the run time.
        var threads = get_num_threads();
        set_num_threads(1);
        try
        {
            Compare(clock);
        }
        finally
        {
            set_num_threads(threads);
        }
    }

    private void Compare(Stopwatch clock)
    {
        double fp32;
        ScalarType referenceDtype;
        using (AutocastScope.Use(Precision.FP32)) fp32 = Train(out referenceDtype);
        var bf16 = Train(out var workingDtype);
        output.WriteLine($"final eval loss: FP32 {fp32:F5}, BF16 {bf16:F5} ({(bf16 - fp32) / fp32:P2}); {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(ScalarType.Float32, referenceDtype);
        Assert.Equal(ScalarType.BFloat16, workingDtype);
        Assert.True(Math.Abs(bf16 - fp32) / fp32 < 0.02, $"BF16 {bf16} vs FP32 {fp32}");
        Assert.True(fp32 < 2.0, $"the task was learned (FP32 loss {fp32}, chance {Math.Log(Vocabulary):F2})");
    }

    private static double Train(out ScalarType workingDtype)
    {
        using var outer = NewDisposeScope();
        manual_seed(11);
        var model = new TinyTransformer(Vocabulary, Context, width: 32, heads: 4).ApplyPrecisionPolicy();
        workingDtype = model.GetPrecisionManifest().Entries.First(e => e.Member == "qkv.weight").StorageDtype;
        using var optimizer = model.CreateMixedPrecisionOptimizer(ps => optim.AdamW(ps, 3e-3));
        var (evalX, evalY) = Batchify(new Generator(99));
        var data = new Generator(5);
        for (var step = 0; step < Steps; step++)
        {
            var (x, y) = Batchify(data);
            var outcome = model.TrainStep(optimizer, x, y, Loss);
            Assert.True(outcome.Applied);
            x.Dispose();
            y.Dispose();
        }
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        return Loss(Autocast.Float32(model.call(evalX)), evalY).item<float>();
    }

    private static Tensor Loss(Tensor logits, Tensor targets) =>
        nn.functional.cross_entropy(logits.reshape(-1, Vocabulary), targets.reshape(-1));

    /// <summary>
    /// Sequences where each token is (previous + previous-but-one) mod V, started from two random
    /// tokens: learnable from context, with an irreducible loss at the first two positions.
    /// </summary>
    private static (Tensor X, Tensor Y) Batchify(Generator generator)
    {
        using var scope = NewDisposeScope();
        var start = randint(0, Vocabulary, new long[] { Batch, 2 }, generator: generator);
        var columns = new System.Collections.Generic.List<Tensor> { start[.., 0], start[.., 1] };
        for (var i = 2; i <= Context; i++) columns.Add((columns[i - 1] + columns[i - 2]).remainder(Vocabulary));
        var sequence = stack(columns.ToArray(), 1);
        return (sequence[.., ..(int)Context].MoveToOuterDisposeScope(), sequence[.., 1..].MoveToOuterDisposeScope());
    }
}
