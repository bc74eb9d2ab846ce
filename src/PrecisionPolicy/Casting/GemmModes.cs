using System;
using System.Collections.Concurrent;
using System.IO;
using TorchSharp;

namespace PrecisionPolicy;

/// <summary>
/// Picks the <see cref="GemmMode"/> per device type: <see cref="GemmMode.Native"/> on CUDA and on
/// CPUs that report avx512_bf16 or amx_bf16, <see cref="GemmMode.Fp32Accumulate"/> on other CPUs.
/// The environment variable <c>PRECISIONPOLICY_GEMM_MODE</c> (Native | Fp32Accumulate) or
/// <see cref="Override"/> overrides the detection.
/// </summary>
public static class GemmModes
{
    /// <summary>The environment variable that overrides detection for every device.</summary>
    public const string EnvironmentVariable = "PRECISIONPOLICY_GEMM_MODE";

    private static readonly ConcurrentDictionary<DeviceType, GemmMode> Overrides = new();
    private static readonly Lazy<bool> CpuHasNativeBf16 = new(DetectCpuBf16);

    /// <summary>The mode for a device type.</summary>
    public static GemmMode For(DeviceType device)
    {
        if (Overrides.TryGetValue(device, out var forced)) return forced;
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            if (Enum.TryParse<GemmMode>(fromEnvironment.Trim(), ignoreCase: true, out var parsed)) return parsed;
            throw new InvalidOperationException(
                $"{EnvironmentVariable}='{fromEnvironment}' is not a GEMM mode: use Native or Fp32Accumulate, or unset it.");
        }
        return device == DeviceType.CPU && !CpuHasNativeBf16.Value ? GemmMode.Fp32Accumulate : GemmMode.Native;
    }

    /// <summary>The mode for a tensor's device.</summary>
    public static GemmMode For(torch.Device device) => For(device.type);

    /// <summary>Forces a mode for a device type (null clears the override).</summary>
    public static void Override(DeviceType device, GemmMode? mode)
    {
        if (mode is { } m) Overrides[device] = m;
        else Overrides.TryRemove(device, out _);
    }

    /// <summary>One line for reports: the mode and why.</summary>
    public static string Describe(DeviceType device)
    {
        var mode = For(device);
        var why = Overrides.ContainsKey(device) ? "override"
            : !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(EnvironmentVariable)) ? EnvironmentVariable
            : device == DeviceType.CPU ? (CpuHasNativeBf16.Value ? "CPU has avx512_bf16/amx_bf16" : "CPU lacks avx512_bf16/amx_bf16")
            : "accelerator";
        return $"{mode} ({why})";
    }

    private static bool DetectCpuBf16()
    {
        // Linux reports the flags libtorch's oneDNN kernels need; elsewhere assume the slow path.
        const string cpuinfo = "/proc/cpuinfo";
        try
        {
            if (!File.Exists(cpuinfo)) return false;
            var text = File.ReadAllText(cpuinfo);
            return text.Contains(" avx512_bf16", StringComparison.Ordinal) || text.Contains(" amx_bf16", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
