using System.Collections.Generic;
using System.IO;
using System.Linq;
using System;
using PrecisionPolicy.Casting;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Casting;

public sealed class GemmCalibratorTests
{
    // A fake timer: each path runs at a fixed GFLOP/s; every call is recorded.
    private static Func<GemmMode, int, double> Timer(double fp32Gflops, double nativeGflops, List<(GemmMode, int)> calls) => (mode, n) =>
    {
        calls.Add((mode, n));
        return 2.0 * n * n * n / ((mode == GemmMode.Native ? nativeGflops : fp32Gflops) * 1e9);
    };

    [Theory]
    [InlineData(100.0, 80.0, GemmMode.Fp32Accumulate)]
    [InlineData(80.0, 100.0, GemmMode.Native)]
    public void Picks_the_faster_path_measured_at_the_representative_sizes(double fp32, double native, GemmMode expected)
    {
        var calls = new List<(GemmMode, int)>();
        var result = GemmCalibrator.Run(Timer(fp32, native, calls));
        Assert.Equal(expected, result.Faster);
        Assert.Equal(fp32, result.Fp32AccumulateGflops, 9);
        Assert.Equal(native, result.NativeGflops, 9);
        Assert.Equal(GemmCalibrator.Sizes.Max(), result.LargestSize);
        // Both paths warmed up once, then ran at the probe and every representative size, Runs times each (all fast).
        foreach (var mode in new[] { GemmMode.Native, GemmMode.Fp32Accumulate })
        {
            Assert.Equal(1, calls.Count(c => c == (mode, GemmCalibrator.WarmUpSize)));
            foreach (var n in GemmCalibrator.Sizes.Prepend(GemmCalibrator.ProbeSize))
                Assert.Equal(GemmCalibrator.Runs, calls.Count(c => c == (mode, n)));
        }
    }

    [Fact]
    public void A_path_far_slower_at_the_probe_is_never_run_at_larger_sizes()
    {
        // An AVX2-only CPU: native BF16 at ~1/120 of FP32.
        var calls = new List<(GemmMode, int)>();
        var result = GemmCalibrator.Run(Timer(60, 0.5, calls));
        Assert.Equal(GemmMode.Fp32Accumulate, result.Faster);
        Assert.Equal(GemmCalibrator.ProbeSize, result.LargestSize);
        Assert.All(calls, c => Assert.InRange(c.Item2, 1, GemmCalibrator.ProbeSize));
        Assert.Equal(0.5, result.NativeGflops, 9);
    }

    [Fact]
    public void A_gemm_slower_than_the_budget_runs_twice_only()
    {
        // 0.01 GFLOP/s: one probe GEMM takes 0.42 s, above SlowGemmSeconds: two runs, not Runs.
        var calls = new List<(GemmMode, int)>();
        GemmCalibrator.Run(Timer(60, 0.01, calls));
        Assert.Equal(2, calls.Count(c => c == (GemmMode.Native, GemmCalibrator.ProbeSize)));
    }

    [Fact]
    public void A_slow_first_gemm_of_the_process_counts_against_neither_path()
    {
        // The first op of a process starts libtorch's thread pool: 0.3 s once, whatever the path.
        var calls = new List<(GemmMode, int)>();
        var timer = Timer(60, 0.5, calls);
        var result = GemmCalibrator.Run((mode, n) => timer(mode, n) + (calls.Count == 0 ? 0.3 : 0));
        Assert.Equal(GemmMode.Fp32Accumulate, result.Faster);
        Assert.Equal(60, result.Fp32AccumulateGflops, 9);
    }

    [Fact]
    public void A_timer_returning_a_non_positive_time_is_a_clear_error()
    {
        var error = Assert.Throws<InvalidOperationException>(() => GemmCalibrator.Run((_, _) => 0));
        Assert.Contains("positive, finite time", error.Message);
    }

    [Fact]
    public void The_real_calibration_on_this_cpu_is_short_and_consistent_with_its_rates()
    {
        var result = GemmCalibrator.RunOnCpu(ScalarType.BFloat16);
        Assert.True(result.Fp32AccumulateGflops > 0 && result.NativeGflops > 0);
        Assert.Equal(result.NativeGflops >= result.Fp32AccumulateGflops ? GemmMode.Native : GemmMode.Fp32Accumulate, result.Faster);
        Assert.InRange(result.Milliseconds, 0, 5000); // bounded even where native 16-bit GEMMs are ~120× slower
        // Without AVX512-BF16 or AMX, oneDNN has no fast BF16 kernel: the FP32 path must win.
        if (!HostCpu.Has("avx512_bf16") && !HostCpu.Has("amx_bf16"))
            Assert.Equal(GemmMode.Fp32Accumulate, result.Faster);
    }
}

public sealed class GemmCalibrationCacheTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "pp-gemm-cache-" + Guid.NewGuid().ToString("N"));
    private readonly GemmCalibration sample = new(61.5, 0.5, 128, 35.25);

    private GemmCalibrationCache Cache => new(Path.Combine(directory, "nested", "gemm.json"));

    public void Dispose()
    {
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public void A_saved_calibration_comes_back_under_its_key_only()
    {
        Cache.Save("cpu A | bf16", sample);
        Cache.Save("cpu A | fp16", sample with { NativeGflops = 70 });
        Assert.Equal(sample, Cache.Load("cpu A | bf16"));
        Assert.Equal(70, Cache.Load("cpu A | fp16")!.NativeGflops);
        Assert.Null(Cache.Load("cpu B | bf16"));
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("")]
    [InlineData("[1, 2, 3]")]
    [InlineData("{\"version\": 99, \"entries\": {}}")]
    [InlineData("{\"version\": 1, \"entries\": {\"k\": {\"fp32AccumulateGflops\": \"fast\"}}}")]
    [InlineData("{\"version\": 1, \"entries\": {\"k\": {\"fp32AccumulateGflops\": -1, \"nativeGflops\": 1, \"largestSize\": 128, \"milliseconds\": 1}}}")]
    public void A_corrupt_or_foreign_file_is_ignored_and_rewritten(string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Cache.Path)!);
        File.WriteAllText(Cache.Path, content);
        Assert.Null(Cache.Load("k"));
        Cache.Save("k", sample);
        Assert.Equal(sample, Cache.Load("k"));
    }

    [Fact]
    public void An_unwritable_location_is_skipped_without_an_error()
    {
        Directory.CreateDirectory(directory);
        var blocker = Path.Combine(directory, "file");
        File.WriteAllText(blocker, "");
        var cache = new GemmCalibrationCache(Path.Combine(blocker, "gemm.json")); // a directory under a file
        cache.Save("k", sample);
        Assert.Null(cache.Load("k"));
    }

    [Fact]
    public void The_cpu_choice_is_measured_once_then_read_from_the_cache()
    {
        var measurements = 0;
        GemmCalibration Measure() { measurements++; return sample; }
        var first = GemmModes.CalibrateOnCpu(ScalarType.BFloat16, Cache, Measure);
        var second = GemmModes.CalibrateOnCpu(ScalarType.BFloat16, Cache, Measure);
        Assert.Equal(1, measurements);
        Assert.Equal((GemmMode.Fp32Accumulate, GemmModeSource.Measured), (first.Mode, first.Source));
        Assert.Equal((GemmMode.Fp32Accumulate, GemmModeSource.Cached), (second.Mode, second.Source));
        Assert.Equal(sample, second.Calibration);
        Assert.StartsWith("Fp32Accumulate (cached measurement: Fp32Accumulate 61.5 GFLOP/s, Native 0.5 GFLOP/s", second.ToString());
    }

    [Fact]
    public void Without_a_cache_every_calibration_measures()
    {
        var measurements = 0;
        GemmCalibration Measure() { measurements++; return sample with { NativeGflops = 100 }; }
        var choice = GemmModes.CalibrateOnCpu(ScalarType.Float16, null, Measure);
        GemmModes.CalibrateOnCpu(ScalarType.Float16, null, Measure);
        Assert.Equal(2, measurements);
        Assert.Equal(GemmMode.Native, choice.Mode);
    }
}
