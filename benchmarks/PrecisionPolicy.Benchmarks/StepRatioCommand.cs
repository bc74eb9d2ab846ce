using System;

namespace PrecisionPolicy.Benchmarks;

/// <summary>
/// Training steps of the sample's GPT side by side, per width, as an <see cref="InterleavedRatio"/>:
/// the toolkit FP32 step against plain TorchSharp's with <c>optim.AdamW</c> (<c>step-ratio</c>), or
/// the toolkit BF16 step, in the GEMM mode the calibration picks, against the toolkit FP32 step
/// (<c>bf16-step-ratio</c>).
/// Run: ... -- step-ratio|bf16-step-ratio [rounds, default 21] [widths, default 128,256,512]
/// </summary>
internal static class StepRatioCommand
{
    public static int Run(string[] args) => Run(args,
        "toolkit FP32 step / plain TorchSharp FP32 step (optim.AdamW)",
        (baseline, candidate) => (baseline.SetupPlain, () => baseline.PlainTorchSharpFp32(), candidate.SetupToolkitFp32, () => candidate.ToolkitFp32()));

    public static int RunBf16(string[] args) => Run(args,
        "toolkit BF16 step / toolkit FP32 step",
        (baseline, candidate) => (baseline.SetupToolkitFp32, () => baseline.ToolkitFp32(), candidate.SetupToolkitBf16, () => candidate.ToolkitBf16()));

    // The setups and steps of both sides, given a benchmark instance for each.
    private static int Run(string[] args, string title, Func<StepVsTorchSharpBenchmarks, StepVsTorchSharpBenchmarks, (Action SetupBaseline, Action Baseline, Action SetupCandidate, Action Candidate)> sides)
    {
        var (rounds, widths) = InterleavedRatio.Arguments(args, [128, 256, 512]);
        Console.WriteLine($"{title}, sample GPT, 2 layers, batch 128; {InterleavedRatio.Describe(rounds)}");
        foreach (var width in widths)
        {
            var baseline = new StepVsTorchSharpBenchmarks { Width = width };
            var candidate = new StepVsTorchSharpBenchmarks { Width = width };
            var (setupBaseline, baselineStep, setupCandidate, candidateStep) = sides(baseline, candidate);
            setupBaseline();
            setupCandidate();
            var ratio = InterleavedRatio.Measure(rounds, baselineStep, candidateStep);
            baseline.Cleanup();
            candidate.Cleanup();
            Console.WriteLine(ratio.Lines($"width {width}"));
        }
        return 0;
    }
}
