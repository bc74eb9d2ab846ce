using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using PrecisionPolicy.Samples.Addition;
using Xunit;

namespace PrecisionPolicy.Samples.Tests;

/// <summary>
/// The main job at its default size: the mixed runs end where FP32 ends. Held-out loss after
/// training is the final loss compared (a fixed set, unlike the last training batches).
/// </summary>
/// <remarks>
/// The task has plateaus (a run learns carries at some step, then drops), so one trajectory's final
/// loss depends on when its plateau breaks, and which GEMM kernels the CPU has decides that. The claim
/// is therefore made on the median over three seeds: one seed stuck on a plateau does not decide it,
/// two would. With label smoothing 0.1 a solved run sits at the smoothed-target entropy (~0.526),
/// so the 2% bound (5% for FP8, whose E4M3 operands carry 3 mantissa bits) means "solved as FP32 is".
/// </remarks>
[Collection(SampleCollection.Name)]
public sealed class SampleParityTests : IDisposable
{
    private static readonly int[] Seeds = [1, 2, 3];

    private readonly DirectoryInfo output = Directory.CreateTempSubdirectory("pp-parity-");

    public void Dispose() => output.Delete(recursive: true);

    [Fact]
    [Trait("Cost", "FullTraining")]
    public void Median_over_seeds_of_bf16_and_fp16_reach_the_fp32_final_loss_within_2_percent_and_fp8_within_5()
    {
        // One intra-op thread: the same reduction order on every machine, so the same trajectory per seed and kernel.
        TorchSharp.torch.set_num_threads(1);
        var runs = Seeds.Select(HeldOutLosses).ToList();
        double Median(string name) => runs.Select(r => r[name]).Order().ElementAt(runs.Count / 2);
        var losses = string.Join("; ", runs.Select((r, i) => $"seed {Seeds[i]}: " + string.Join(", ", r.Select(p => $"{p.Key} {p.Value:F4}"))));

        // "Reaches": at most 2% (FP8: 5%) above the FP32 median; ending lower is no failure.
        var fp32 = Median("fp32");
        Assert.True(Median("bf16") <= fp32 * 1.02, "bf16 median above 1.02x fp32: " + losses);
        Assert.True(Median("fp16") <= fp32 * 1.02, "fp16 median above 1.02x fp32: " + losses);
        Assert.True(Median("fp8") <= fp32 * 1.05, "fp8 median above 1.05x fp32: " + losses);
    }

    private Dictionary<string, double> HeldOutLosses(int seed)
    {
        var folder = output.CreateSubdirectory($"seed{seed}").FullName;
        var exit = SampleCli.Create().Parse(["--precisions", "fp32,bf16,fp16,fp8", "--seed", seed.ToString(), "--output", folder]).Invoke();
        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "results.json")));
        return json.RootElement.GetProperty("runs").EnumerateArray()
            .ToDictionary(r => r.GetProperty("Name").GetString()!, r => r.GetProperty("HeldOutLoss").GetDouble());
    }
}
