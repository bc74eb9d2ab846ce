using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;

namespace PrecisionPolicy.Benchmarks;

/// <summary>
/// The toolkit FP32 step against plain TorchSharp's, interleaved: each round times one step of each
/// (order alternating), so a load change on a shared machine hits both sides of a round alike, and the
/// median of the per-round ratios is reported per width. BenchmarkDotNet measures the variants one after
/// another, which on a loaded machine spreads the ratio by tens of percent.
/// Run: ... -- step-ratio [rounds, default 21] [widths, default 128,256,512]
/// </summary>
internal static class StepRatioCommand
{
    public static int Run(string[] args)
    {
        var rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 21;
        var widths = args.Length > 1 ? args[1].Split(',').Select(w => int.Parse(w, CultureInfo.InvariantCulture)).ToArray() : [128, 256, 512];
        Console.WriteLine($"toolkit FP32 step / plain TorchSharp FP32 step (optim.AdamW), sample GPT, 2 layers, batch 128; median of {rounds} interleaved rounds after 3 warm-up rounds");
        foreach (var width in widths)
        {
            var plain = new StepVsTorchSharpBenchmarks { Width = width };
            var toolkit = new StepVsTorchSharpBenchmarks { Width = width };
            plain.SetupPlain();
            toolkit.SetupToolkitFp32();
            var ratios = new double[rounds];
            var (plainTimes, toolkitTimes) = (new double[rounds], new double[rounds]);
            for (var round = -3; round < rounds; round++)
            {
                double p, t;
                if ((round & 1) == 0) (p, t) = (Time(() => plain.PlainTorchSharpFp32()), Time(() => toolkit.ToolkitFp32()));
                else (t, p) = (Time(() => toolkit.ToolkitFp32()), Time(() => plain.PlainTorchSharpFp32()));
                if (round < 0) continue;
                (plainTimes[round], toolkitTimes[round], ratios[round]) = (p, t, t / p);
            }
            plain.Cleanup();
            toolkit.Cleanup();
            Console.WriteLine(FormattableString.Invariant(
                $"width {width}: ratio {Median(ratios):F3} (quartiles {Quantile(ratios, 0.25):F3}–{Quantile(ratios, 0.75):F3}); plain {Median(plainTimes):F1} ms, toolkit {Median(toolkitTimes):F1} ms"));
        }
        return 0;
    }

    private static double Time(Action step)
    {
        var clock = Stopwatch.StartNew();
        step();
        return clock.Elapsed.TotalMilliseconds;
    }

    private static double Median(double[] values) => Quantile(values, 0.5);

    private static double Quantile(double[] values, double q)
    {
        var sorted = values.Order().ToArray();
        var position = q * (sorted.Length - 1);
        var low = (int)Math.Floor(position);
        var high = (int)Math.Ceiling(position);
        return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
    }
}
