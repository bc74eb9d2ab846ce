using System;

namespace PrecisionPolicy.Benchmarks;

/// <summary>
/// The toolkit's whole BF16 mixed-precision optimizer step (candidate) against TorchSharp's
/// per-parameter <c>optim.AdamW</c> step (baseline), 1000 tensors, per total element count, as an
/// <see cref="InterleavedRatio"/>; the same steps as <see cref="OptimizerVsTorchSharpBenchmarks"/>.
/// Run: ... -- optimizer-ratio [rounds, default 21] [elements, default 1048576,4194304]
/// </summary>
internal static class OptimizerRatioCommand
{
    public static int Run(string[] args)
    {
        var (rounds, sizes) = InterleavedRatio.Arguments(args, [1 << 20, 1 << 22]);
        Console.WriteLine($"toolkit BF16 mixed-precision optimizer step / TorchSharp AdamW per parameter, 1000 tensors; {InterleavedRatio.Describe(rounds)}");
        foreach (var elements in sizes)
        {
            var plain = new OptimizerVsTorchSharpBenchmarks { Elements = elements };
            var toolkit = new OptimizerVsTorchSharpBenchmarks { Elements = elements };
            plain.SetupPlain();
            toolkit.SetupToolkit();
            var ratio = InterleavedRatio.Measure(rounds, plain.TorchSharpAdamWPerParameter, () => toolkit.ToolkitBf16MixedPrecisionStep());
            plain.Cleanup();
            toolkit.Cleanup();
            Console.WriteLine(ratio.Lines($"{elements} elements"));
        }
        return 0;
    }
}
