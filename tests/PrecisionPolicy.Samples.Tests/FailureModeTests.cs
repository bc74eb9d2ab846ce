using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using PrecisionPolicy.Samples.Addition;
using Xunit;

namespace PrecisionPolicy.Samples.Tests;

/// <summary>
/// `--failure-modes`: each failure shows in its run and the recipe's fix recovers from it, on a model small
/// enough for seconds of CPU (and Native GEMM mode): losses compared over several seeds, lost updates
/// counted exactly, the overflow named at its call site.
/// </summary>
[Collection(SampleCollection.Name)]
public sealed class FailureModeTests : IDisposable
{
    private static readonly string[] Tiny = ["--batch", "32", "--width", "16", "--layers", "1", "--heads", "2", "--digits", "1"];

    private readonly DirectoryInfo output = Directory.CreateTempSubdirectory("pp-failures-");

    public void Dispose() => output.Delete(recursive: true);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Fp16_without_loss_scaling_stalls_on_the_small_loss_and_loss_scaling_recovers(int seed)
    {
        var runs = Train(seed, steps: 40, "small-loss-noscale", "small-loss-scaled");
        var (stalled, scaled) = (runs["small-loss-noscale"], runs["small-loss-scaled"]);

        // Unscaled, every gradient of the weighted loss rounds to 0 in FP16: nothing moves but weight decay.
        Assert.Equal(1.0, Number(stalled, "GradientZeroFraction"));
        Assert.True(Number(stalled, "FinalLoss") >= 0.98 * FirstLoss(stalled), stalled.ToString());
        Assert.True(Number(scaled, "FinalLoss") < 0.9 * FirstLoss(scaled), scaled.ToString());
        Assert.True(Number(stalled, "FinalLoss") >= 1.1 * Number(scaled, "FinalLoss"),
            $"noscale {Number(stalled, "FinalLoss")} vs scaled {Number(scaled, "FinalLoss")}");
    }

    [Fact]
    public void Fp16_weights_updated_in_place_lose_updates_that_fp32_masters_keep()
    {
        // A small learning rate: lr·g is mostly below half the FP16 spacing around a weight (2^-12 of it), far above FP32's.
        var runs = Train(seed: 1, steps: 20, ["--sgd-lr", "0.01"], "fp16-inplace-sgd", "fp16-masters-sgd");

        var inPlace = Number(runs["fp16-inplace-sgd"], "LostUpdateFraction");
        var masters = Number(runs["fp16-masters-sgd"], "LostUpdateFraction");
        Assert.True(inPlace > 0.1, $"in place: {inPlace}");
        Assert.True(masters < inPlace / 10, $"masters: {masters}, in place: {inPlace}");
    }

    [Fact]
    public void The_lost_update_share_of_every_step_is_recorded_high_in_place_and_near_zero_on_masters()
    {
        var runs = Train(seed: 1, steps: 20, ["--sgd-lr", "0.01"], "fp16-inplace-sgd", "fp16-masters-sgd");

        var inPlace = PerStep(runs["fp16-inplace-sgd"]);
        var masters = PerStep(runs["fp16-masters-sgd"]);
        Assert.Equal(20, inPlace.Length);
        Assert.Equal(20, masters.Length);
        Assert.True(Median(inPlace) > 0.1, $"in place: {string.Join(", ", inPlace)}");
        Assert.All(masters, f => Assert.True(f < 0.01, $"masters: {string.Join(", ", masters)}"));
    }

    [Fact]
    public void The_fp16_overflow_is_located_at_the_attention_score_matmul_and_fp32_scores_recover()
    {
        var runs = Train(seed: 1, steps: 4, "hot-attention-fp16", "hot-attention-fp32-scores");
        var (hot, fixedRun) = (runs["hot-attention-fp16"], runs["hot-attention-fp32-scores"]);

        var site = hot.GetProperty("FirstFailingSite").GetString()!;
        var line = SourceLine("Model/CausalSelfAttention.cs", "matmul(q, k.transpose(-2, -1))).mul(scoreScale)");
        Assert.Matches($@"Model/CausalSelfAttention\.cs\({line},\d+\) \S*matmul \(forward, step 1, output amax inf from input amax \S+\)", site);
        Assert.Equal(4, hot.GetProperty("SkippedSteps").GetInt32());
        Assert.Equal(0, fixedRun.GetProperty("SkippedSteps").GetInt32());
        Assert.Equal(JsonValueKind.Null, fixedRun.GetProperty("FirstFailingSite").ValueKind);
        Assert.All(fixedRun.GetProperty("Losses").EnumerateArray(), l => Assert.True(double.IsFinite(l.GetDouble())));
    }

    private Dictionary<string, JsonElement> Train(int seed, int steps, params string[] runs) => Train(seed, steps, [], runs);

    private Dictionary<string, JsonElement> Train(int seed, int steps, string[] options, params string[] runs)
    {
        var exit = SampleCli.Create().Parse(
            [.. Tiny, .. options, "--steps", steps.ToString(), "--seed", seed.ToString(), "--precisions", string.Join(",", runs), "--output", output.FullName]).Invoke();
        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output.FullName, "results.json")));
        return json.RootElement.GetProperty("runs").EnumerateArray().ToDictionary(r => r.GetProperty("Name").GetString()!, r => r.Clone());
    }

    private static double[] PerStep(JsonElement run) =>
        run.GetProperty("LostUpdateFractionPerStep").EnumerateArray().Select(f => f.GetDouble()).ToArray();

    private static double Median(double[] values) => values.Order().ElementAt(values.Length / 2);

    private static double Number(JsonElement run, string property) => run.GetProperty(property).GetDouble();

    private static double FirstLoss(JsonElement run) => run.GetProperty("Losses")[0].GetDouble();

    // The 1-based line of the sample's source that holds the text: the site the generator numbered.
    private static int SourceLine(string file, string text, [System.Runtime.CompilerServices.CallerFilePath] string here = "")
    {
        var path = Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "samples", "PrecisionPolicy.Samples.Addition", file);
        return Array.FindIndex(File.ReadAllLines(path), l => l.Contains(text, StringComparison.Ordinal)) + 1;
    }
}
