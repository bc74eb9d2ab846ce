using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;

namespace PrecisionPolicy.Benchmarks;

/// <summary>
/// A candidate against a baseline, interleaved: each round times one call of each (order alternating),
/// so a load change on a shared machine hits both sides of a round alike, and the median of the
/// per-round ratios is reported. BenchmarkDotNet measures variants one after another, which on a loaded
/// machine spreads a ratio by tens of percent. Each call is timed twice: wall clock, and the thread's
/// CPU time (<see cref="ThreadCpuClock"/>), which the load barely moves.
/// </summary>
internal sealed class InterleavedRatio
{
    private const int WarmUpRounds = 3;
    private readonly Timings wall;
    private readonly Timings cpu;

    private InterleavedRatio(int rounds) => (wall, cpu) = (new Timings(rounds), new Timings(rounds));

    /// <summary>Times <paramref name="rounds"/> rounds after the warm-up rounds.</summary>
    public static InterleavedRatio Measure(int rounds, Action baseline, Action candidate)
    {
        var result = new InterleavedRatio(rounds);
        for (var round = -WarmUpRounds; round < rounds; round++)
        {
            StepTime b, c;
            if ((round & 1) == 0) (b, c) = (Time(baseline), Time(candidate));
            else (c, b) = (Time(candidate), Time(baseline));
            if (round < 0) continue;
            result.wall.Add(round, b.Wall, c.Wall);
            result.cpu.Add(round, b.Cpu, c.Cpu);
        }
        return result;
    }

    /// <summary>One line per clock, each starting with <paramref name="label"/>.</summary>
    public string Lines(string label) =>
        $"{label}: wall clock {wall}" + (ThreadCpuClock.IsAvailable ? $"{Environment.NewLine}{label}: thread CPU {cpu}" : "");

    /// <summary>A command's arguments: the rounds (default 21), then a comma-separated list of sizes.</summary>
    public static (int Rounds, int[] Sizes) Arguments(string[] args, int[] defaultSizes) =>
        (args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 21,
         args.Length > 1 ? args[1].Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray() : defaultSizes);

    /// <summary>What the header of a report says about the rounds.</summary>
    public static string Describe(int rounds) => $"median of {rounds} interleaved rounds after {WarmUpRounds} warm-up rounds";

    private static StepTime Time(Action call)
    {
        var cpuStart = ThreadCpuClock.IsAvailable ? ThreadCpuClock.Milliseconds() : 0;
        var clock = Stopwatch.StartNew();
        call();
        var wallMs = clock.Elapsed.TotalMilliseconds;
        return new StepTime(wallMs, ThreadCpuClock.IsAvailable ? ThreadCpuClock.Milliseconds() - cpuStart : double.NaN);
    }

    private readonly record struct StepTime(double Wall, double Cpu);

    private sealed class Timings(int rounds)
    {
        private readonly double[] baseline = new double[rounds];
        private readonly double[] candidate = new double[rounds];
        private readonly double[] ratios = new double[rounds];

        public void Add(int round, double baselineMs, double candidateMs) =>
            (baseline[round], candidate[round], ratios[round]) = (baselineMs, candidateMs, candidateMs / baselineMs);

        public override string ToString() => FormattableString.Invariant(
            $"ratio {Median(ratios):F3} (quartiles {Quantile(ratios, 0.25):F3}–{Quantile(ratios, 0.75):F3}); baseline {Median(baseline):F1} ms, candidate {Median(candidate):F1} ms");

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
}
