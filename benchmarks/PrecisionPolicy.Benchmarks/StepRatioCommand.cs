using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;

namespace PrecisionPolicy.Benchmarks;

/// <summary>
/// The toolkit FP32 step against plain TorchSharp's, interleaved: each round times one step of each
/// (order alternating), so a load change on a shared machine hits both sides of a round alike, and the
/// median of the per-round ratios is reported per width. BenchmarkDotNet measures the variants one after
/// another, which on a loaded machine spreads the ratio by tens of percent. Each step is timed twice:
/// wall clock, and the thread's CPU time (<see cref="ThreadCpuClock"/>), which the load barely moves.
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
            var (wall, cpu) = (new Timings(rounds), new Timings(rounds));
            for (var round = -3; round < rounds; round++)
            {
                StepTime p, t;
                if ((round & 1) == 0) (p, t) = (Time(() => plain.PlainTorchSharpFp32()), Time(() => toolkit.ToolkitFp32()));
                else (t, p) = (Time(() => toolkit.ToolkitFp32()), Time(() => plain.PlainTorchSharpFp32()));
                if (round < 0) continue;
                wall.Add(round, p.Wall, t.Wall);
                cpu.Add(round, p.Cpu, t.Cpu);
            }
            plain.Cleanup();
            toolkit.Cleanup();
            Console.WriteLine($"width {width}: wall clock {wall}");
            if (ThreadCpuClock.IsAvailable) Console.WriteLine($"width {width}: thread CPU {cpu}");
        }
        return 0;
    }

    private static StepTime Time(Action step)
    {
        var cpuStart = ThreadCpuClock.IsAvailable ? ThreadCpuClock.Milliseconds() : 0;
        var clock = Stopwatch.StartNew();
        step();
        var wall = clock.Elapsed.TotalMilliseconds;
        return new StepTime(wall, ThreadCpuClock.IsAvailable ? ThreadCpuClock.Milliseconds() - cpuStart : double.NaN);
    }

    private readonly record struct StepTime(double Wall, double Cpu);

    private sealed class Timings(int rounds)
    {
        private readonly double[] plain = new double[rounds];
        private readonly double[] toolkit = new double[rounds];
        private readonly double[] ratios = new double[rounds];

        public void Add(int round, double plainMs, double toolkitMs) =>
            (plain[round], toolkit[round], ratios[round]) = (plainMs, toolkitMs, toolkitMs / plainMs);

        public override string ToString() => FormattableString.Invariant(
            $"ratio {Median(ratios):F3} (quartiles {Quantile(ratios, 0.25):F3}–{Quantile(ratios, 0.75):F3}); plain {Median(plain):F1} ms, toolkit {Median(toolkit):F1} ms");
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
