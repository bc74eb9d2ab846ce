using System;
using System.Collections.Concurrent;
using System.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy;

/// <summary>
/// Picks the <see cref="GemmMode"/> per device type and compute dtype: <see cref="GemmMode.Native"/>
/// on CUDA, and on CPUs whose flags give native kernels for that dtype (avx512_bf16 or amx_bf16 for
/// bfloat16, avx512_fp16 or amx_fp16 for float16); <see cref="GemmMode.Fp32Accumulate"/> on other
/// CPUs, where native 16-bit GEMMs are ~120× slower than FP32. The environment variable
/// <c>PRECISIONPOLICY_GEMM_MODE</c> (Native | Fp32Accumulate) or <see cref="Override"/> forces a
/// mode for every dtype.
/// </summary>
public static class GemmModes
{
    /// <summary>The environment variable that overrides detection for every device.</summary>
    public const string EnvironmentVariable = "PRECISIONPOLICY_GEMM_MODE";

    private static readonly ConcurrentDictionary<DeviceType, GemmMode> Overrides = new();
    private static readonly Lazy<string> CpuFlags = new(ReadCpuFlags);

    /// <summary>The mode for low-precision ops computing in <paramref name="compute"/> on a device type.</summary>
    public static GemmMode For(DeviceType device, ScalarType compute)
    {
        if (Overrides.TryGetValue(device, out var forced)) return forced;
        if (FromEnvironment() is { } configured) return configured;
        return device != DeviceType.CPU || CpuHasNative(compute) ? GemmMode.Native : GemmMode.Fp32Accumulate;
    }

    /// <summary>Forces a mode for a device type, for every dtype (null clears the override).</summary>
    public static void Override(DeviceType device, GemmMode? mode)
    {
        if (mode is { } m) Overrides[device] = m;
        else Overrides.TryRemove(device, out _);
    }

    /// <summary>One line for reports: the mode and why.</summary>
    public static string Describe(DeviceType device, ScalarType compute)
    {
        var mode = For(device, compute);
        var why = Overrides.ContainsKey(device) ? "override"
            : FromEnvironment() is not null ? EnvironmentVariable
            : device != DeviceType.CPU ? "accelerator"
            : compute == ScalarType.Float32 ? "FP32 compute"
            : CpuHasNative(compute) ? $"CPU has native {compute} kernels" : $"CPU lacks native {compute} kernels";
        return $"{mode} ({why})";
    }

    private static GemmMode? FromEnvironment()
    {
        var value = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(value)) return null;
        if (Enum.TryParse<GemmMode>(value.Trim(), ignoreCase: true, out var parsed)) return parsed;
        throw new InvalidOperationException($"{EnvironmentVariable}='{value}' is not a GEMM mode: use Native or Fp32Accumulate, or unset it.");
    }

    // The flags oneDNN needs for fast 16-bit GEMMs in libtorch's CPU kernels.
    private static bool CpuHasNative(ScalarType compute) => compute switch
    {
        ScalarType.BFloat16 => HasFlag("avx512_bf16") || HasFlag("amx_bf16"),
        ScalarType.Float16 => HasFlag("avx512_fp16") || HasFlag("amx_fp16"),
        _ => true,
    };

    private static bool HasFlag(string flag) => CpuFlags.Value.Contains($" {flag} ", StringComparison.Ordinal);

    private static string ReadCpuFlags()
    {
        // Linux reports CPU flags in /proc/cpuinfo; elsewhere assume the slow path.
        try
        {
            return File.Exists("/proc/cpuinfo") ? File.ReadAllText("/proc/cpuinfo").Replace('\n', ' ') + " " : "";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}
