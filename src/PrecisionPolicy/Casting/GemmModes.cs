using System;
using System.Collections.Concurrent;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Casting;

/// <summary>
/// Picks the <see cref="GemmMode"/> per device type and compute dtype.
/// <list type="bullet">
/// <item><see cref="Override"/> or the environment variable <c>PRECISIONPOLICY_GEMM_MODE</c>
/// (Native | Fp32Accumulate) force a mode for every dtype.</item>
/// <item>CUDA (and any other accelerator) runs <see cref="GemmMode.Native"/> without measuring:
/// tensor cores multiply BF16/FP16 at 8–16× their FP32 rate (NVIDIA's published dense peaks: A100
/// 312 TFLOP/s BF16 against 19.5 FP32; H100 SXM 989 against 67), so the FP32 path cannot win, and a
/// calibration would only add start-up time and allocate device memory.</item>
/// <item>On the CPU the first use of a 16-bit compute dtype runs a short calibration
/// (<see cref="GemmCalibration"/>: a few GEMMs on both paths, a few ms to ~100 ms) and takes the
/// faster path. CPUs with AVX512-BF16/FP16 or AMX usually measure native faster (AMX-BF16 does 16×
/// the FP32 FMA work per cycle); AVX2-only CPUs measure Fp32Accumulate faster (native 16-bit GEMMs
/// there are ~120× slower than FP32). The result is kept for the process and in a cache file keyed
/// by CPU model, libtorch version and dtype (<c>PRECISIONPOLICY_GEMM_CACHE</c>: a
/// path, or <c>off</c>).</item>
/// </list>
/// <see cref="Choice"/> says which mode, why, and what was measured.
/// </summary>
public static class GemmModes
{
    /// <summary>The environment variable that overrides the choice for every device.</summary>
    public const string EnvironmentVariable = "PRECISIONPOLICY_GEMM_MODE";

    /// <summary>The environment variable that moves the calibration cache file, or disables it with <c>off</c>.</summary>
    public const string CacheEnvironmentVariable = GemmCalibrationCache.EnvironmentVariable;

    private static readonly ConcurrentDictionary<DeviceType, GemmMode> Overrides = new();
    private static readonly ConcurrentDictionary<ScalarType, Lazy<GemmModeChoice>> CpuCalibrations = new();

    /// <summary>The mode for low-precision ops computing in <paramref name="compute"/> on a device type.</summary>
    public static GemmMode For(DeviceType device, ScalarType compute)
    {
        // Every cast asks: the common answers come without allocating.
        if (Overrides.TryGetValue(device, out var forced)) return forced;
        if (FromEnvironment() is { } configured) return configured;
        if (device != DeviceType.CPU || !IsLowPrecision(compute)) return GemmMode.Native;
        return CalibratedOnCpu(compute).Mode;
    }

    /// <summary>The mode for a device type and compute dtype, why it was chosen, and the measured rates when it was measured.</summary>
    public static GemmModeChoice Choice(DeviceType device, ScalarType compute)
    {
        if (Overrides.TryGetValue(device, out var forced)) return new(device, compute, forced, GemmModeSource.Override, null);
        if (FromEnvironment() is { } configured) return new(device, compute, configured, GemmModeSource.EnvironmentVariable, null);
        if (device != DeviceType.CPU) return new(device, compute, GemmMode.Native, GemmModeSource.Accelerator, null);
        if (!IsLowPrecision(compute)) return new(device, compute, GemmMode.Native, GemmModeSource.NotLowPrecision, null);
        return CalibratedOnCpu(compute);
    }

    /// <summary>Forces a mode for a device type, for every dtype (null clears the override).</summary>
    public static void Override(DeviceType device, GemmMode? mode)
    {
        if (mode is { } m) Overrides[device] = m;
        else Overrides.TryRemove(device, out _);
    }

    /// <summary>One line for reports: the mode and why, with the measured rates (<see cref="Choice"/> as text).</summary>
    public static string Describe(DeviceType device, ScalarType compute) => Choice(device, compute).ToString();

    /// <summary>
    /// The CPU choice from <paramref name="cache"/> when it holds this machine's calibration, else from
    /// <paramref name="measure"/> (then stored in the cache).
    /// </summary>
    internal static GemmModeChoice CalibrateOnCpu(ScalarType compute, GemmCalibrationCache? cache, Func<GemmCalibration> measure)
    {
        var key = GemmCalibrationCache.KeyFor(HostCpu.Model, torch.__version__, compute);
        if (cache?.Load(key) is { } stored) return new(DeviceType.CPU, compute, stored.Faster, GemmModeSource.Cached, stored);
        var measured = measure();
        cache?.Save(key, measured);
        return new(DeviceType.CPU, compute, measured.Faster, GemmModeSource.Measured, measured);
    }

    // Once per process and dtype; concurrent first uses wait for the one calibration.
    private static GemmModeChoice CalibratedOnCpu(ScalarType compute) =>
        CpuCalibrations.GetOrAdd(compute, static c => new Lazy<GemmModeChoice>(
            () => CalibrateOnCpu(c, GemmCalibrationCache.Default(), () => GemmCalibrator.RunOnCpu(c)))).Value;

    private static bool IsLowPrecision(ScalarType compute) => compute is ScalarType.BFloat16 or ScalarType.Float16;

    private static GemmMode? FromEnvironment()
    {
        var value = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(value)) return null;
        if (Enum.TryParse<GemmMode>(value.Trim(), ignoreCase: true, out var parsed) && Enum.IsDefined(parsed)) return parsed;
        throw new InvalidOperationException($"{EnvironmentVariable}='{value}' is not a GEMM mode: use Native or Fp32Accumulate, or unset it.");
    }
}
