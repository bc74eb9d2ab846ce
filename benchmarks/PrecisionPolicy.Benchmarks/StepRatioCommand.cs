using System;

namespace PrecisionPolicy.Benchmarks;

/// <summary>
/// The toolkit FP32 training step (candidate) against plain TorchSharp's with <c>optim.AdamW</c>
/// (baseline), per width, as an <see cref="InterleavedRatio"/>.
/// Run: ... -- step-ratio [rounds, default 21] [widths, default 128,256,512]
/// </summary>
internal static class StepRatioCommand
{
    public static int Run(string[] args)
    {
        var (rounds, widths) = InterleavedRatio.Arguments(args, [128, 256, 512]);
        Console.WriteLine($"toolkit FP32 step / plain TorchSharp FP32 step (optim.AdamW), sample GPT, 2 layers, batch 128; {InterleavedRatio.Describe(rounds)}");
        foreach (var width in widths)
        {
            var plain = new StepVsTorchSharpBenchmarks { Width = width };
            var toolkit = new StepVsTorchSharpBenchmarks { Width = width };
            plain.SetupPlain();
            toolkit.SetupToolkitFp32();
            var ratio = InterleavedRatio.Measure(rounds, () => plain.PlainTorchSharpFp32(), () => toolkit.ToolkitFp32());
            plain.Cleanup();
            toolkit.Cleanup();
            Console.WriteLine(ratio.Lines($"width {width}"));
        }
        return 0;
    }
}
