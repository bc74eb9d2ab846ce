using System;
using System.Collections.Generic;
using System.Diagnostics;
using static TorchSharp.torch;

namespace PrecisionPolicy.Casting;

/// <summary>
/// Measures both GEMM paths for a compute dtype and reports their throughput. Short by design: a
/// probe at n=128 for both paths; when one path is more than <see cref="CutOffRatio"/>× slower
/// there, it cannot win at larger sizes and the calibration stops (on an AVX2-only CPU a native
/// BF16 GEMM is ~120× slower, so a native n=512 GEMM, ~0.5 s there, never runs). Otherwise both
/// paths run at the shapes that dominate training steps (n=256 and 512) and those decide.
/// </summary>
internal static class GemmCalibrator
{
    /// <summary>
    /// An untimed GEMM per path first: the first ops of a process or dtype pay for thread-pool
    /// start-up and kernel selection (hundreds of ms), which must not count against either path.
    /// </summary>
    internal const int WarmUpSize = 16;

    /// <summary>The probe size: small enough that even a slow path takes a few milliseconds.</summary>
    internal const int ProbeSize = 128;

    /// <summary>Representative sizes: the widths and sequence lengths where GEMMs dominate the step.</summary>
    internal static readonly int[] Sizes = { 256, 512 };

    /// <summary>A path this many times slower at the probe size is not measured further.</summary>
    internal const double CutOffRatio = 4.0;

    /// <summary>Runs per path and size; the minimum counts.</summary>
    internal const int Runs = 4;

    /// <summary>After two runs, a GEMM slower than this is not repeated: repeating only removes noise from fast GEMMs.</summary>
    internal const double SlowGemmSeconds = 0.05;

    /// <summary>Calibrates with <paramref name="secondsOfOneGemm"/>(mode, n): the wall time of one n×n×n GEMM on a path.</summary>
    public static GemmCalibration Run(Func<GemmMode, int, double> secondsOfOneGemm)
    {
        ArgumentNullException.ThrowIfNull(secondsOfOneGemm);
        var watch = Stopwatch.StartNew();
        var fp32 = new PathTiming(GemmMode.Fp32Accumulate, secondsOfOneGemm);
        var native = new PathTiming(GemmMode.Native, secondsOfOneGemm);
        secondsOfOneGemm(GemmMode.Fp32Accumulate, WarmUpSize);
        secondsOfOneGemm(GemmMode.Native, WarmUpSize);
        Measure(ProbeSize, fp32, native);
        var largest = ProbeSize;
        var gap = Math.Max(fp32.Seconds / native.Seconds, native.Seconds / fp32.Seconds);
        if (gap <= CutOffRatio)
        {
            // Close at the probe: the representative sizes decide (the probe's small GEMM is left out).
            fp32 = new PathTiming(GemmMode.Fp32Accumulate, secondsOfOneGemm);
            native = new PathTiming(GemmMode.Native, secondsOfOneGemm);
            foreach (var n in Sizes)
            {
                Measure(n, fp32, native);
                largest = n;
            }
        }
        return new GemmCalibration(fp32.Gflops, native.Gflops, largest, watch.Elapsed.TotalMilliseconds);
    }

    /// <summary>
    /// Calibrates libtorch's CPU kernels for <paramref name="compute"/> (tensors of its own dispose
    /// scope, no autograd) on one thread: a multi-threaded GEMM on a loaded machine waits for its
    /// slowest thread to be scheduled, which measured a 128×128 FP32 GEMM 400× slow next to other
    /// builds; both paths parallelise alike, so one thread keeps their ratio and loses the noise.
    /// </summary>
    public static GemmCalibration RunOnCpu(ScalarType compute)
    {
        var threads = get_num_threads();
        set_num_threads(1);
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            using var timer = new CpuGemmTimer(compute);
            return Run(timer.Seconds);
        }
        finally
        {
            set_num_threads(threads);
        }
    }

    // Runs of the two paths alternate, so a burst of load on the machine hits both.
    private static void Measure(int n, PathTiming fp32, PathTiming native)
    {
        for (var run = 0; run < Runs; run++)
        {
            fp32.RunOnce(n, run);
            native.RunOnce(n, run);
        }
        fp32.Finish(n);
        native.Finish(n);
    }

    // Total FLOPs and seconds of one path over the sizes it ran (the minimum run per size).
    private sealed class PathTiming(GemmMode mode, Func<GemmMode, int, double> secondsOfOneGemm)
    {
        private double flops;
        private double best = double.PositiveInfinity;
        private bool slow;

        public double Seconds { get; private set; }

        public double Gflops => flops / Seconds / 1e9;

        public void RunOnce(int n, int run)
        {
            if (slow) return;
            var seconds = secondsOfOneGemm(mode, n);
            if (!(seconds > 0) || double.IsInfinity(seconds))
                throw new InvalidOperationException($"The GEMM timer returned {seconds} s for {mode} at n={n}; it must return a positive, finite time.");
            best = Math.Min(best, seconds);
            slow = run > 0 && seconds > SlowGemmSeconds;
        }

        public void Finish(int n)
        {
            flops += 2.0 * n * n * n;
            Seconds += best;
            (best, slow) = (double.PositiveInfinity, false);
        }
    }

    /// <summary>
    /// Times one square GEMM per call on each path, with operands stored in the compute dtype as a
    /// model's weights and activations are: Native multiplies them as they are; Fp32Accumulate
    /// widens both, multiplies in FP32 and rounds the result, as the casting helpers do. CPU ops
    /// return when done, so the stopwatch sees the whole GEMM. Operands come from a private
    /// generator, so calibrating leaves the global RNG (and so a seeded training run) untouched.
    /// </summary>
    private sealed class CpuGemmTimer(ScalarType compute) : IDisposable
    {
        private readonly Dictionary<int, (Tensor A, Tensor B)> operands = new();
        private readonly Generator generator = new(seed: 0x9E3779B9);

        public double Seconds(GemmMode mode, int n)
        {
            var (a, b) = Operands(n);
            var watch = Stopwatch.StartNew();
            if (mode == GemmMode.Native)
            {
                using var product = matmul(a, b);
            }
            else
            {
                using var a32 = a.to(ScalarType.Float32);
                using var b32 = b.to(ScalarType.Float32);
                using var product = matmul(a32, b32);
                using var rounded = product.to(compute);
            }
            return watch.Elapsed.TotalSeconds;
        }

        public void Dispose() => generator.Dispose();

        private (Tensor A, Tensor B) Operands(int n)
        {
            if (operands.TryGetValue(n, out var pair)) return pair;
            using var a = rand(new long[] { n, n }, generator: generator);
            using var b = rand(new long[] { n, n }, generator: generator);
            pair = (a.to(compute), b.to(compute)); // freed with the calibration's dispose scope
            operands[n] = pair;
            return pair;
        }
    }
}
