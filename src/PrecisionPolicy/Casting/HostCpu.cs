using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace PrecisionPolicy;

/// <summary>
/// The CPU this process runs on: its model name and the instruction-set flags that decide how fast
/// libtorch's GEMM kernels are (oneDNN uses AVX512-BF16/AVX512-FP16/AMX for native 16-bit GEMMs).
/// For reports, benchmark headers and the key of the GEMM calibration cache.
/// </summary>
public static class HostCpu
{
    // The flags that change which GEMM kernels libtorch can pick, in /proc/cpuinfo spelling.
    private static readonly string[] GemmFlags =
    {
        "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "avx_vnni",
        "amx_tile", "amx_bf16", "amx_fp16", "asimd", "asimdhp", "bf16", "sve", "sve2",
    };

    private static readonly Lazy<(string Model, string[] Flags)> Info = new(Read);

    /// <summary>The CPU model name (from /proc/cpuinfo on Linux; the architecture elsewhere).</summary>
    public static string Model => Info.Value.Model;

    /// <summary>The GEMM-relevant instruction-set flags this CPU has, in /proc/cpuinfo spelling.</summary>
    public static IReadOnlyList<string> Flags => Info.Value.Flags;

    /// <summary>Whether the CPU has <paramref name="flag"/> (one of <see cref="Flags"/>' spellings).</summary>
    public static bool Has(string flag) => Info.Value.Flags.Contains(flag, StringComparer.Ordinal);

    /// <summary>One line: model, logical cores, flags.</summary>
    public static string Describe() =>
        $"{Model}, {Environment.ProcessorCount} logical cores, flags: {(Flags.Count == 0 ? "none known" : string.Join(' ', Flags))}";

    private static (string, string[]) Read()
    {
        var text = ReadCpuInfo();
        var model = Field(text, "model name") ?? Field(text, "Hardware") ?? Field(text, "Processor")
            ?? Environment.GetEnvironmentVariable("PROCESSOR_IDENTIFIER")
            ?? RuntimeInformation.ProcessArchitecture.ToString();
        var listed = (Field(text, "flags") ?? Field(text, "Features"))?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var flags = listed is null ? FromIntrinsics() : GemmFlags.Where(f => listed.Contains(f, StringComparer.Ordinal)).ToArray();
        return (model.Trim(), flags);
    }

    // Without /proc/cpuinfo, the runtime's own detection (it cannot see the BF16/FP16/AMX extensions).
    private static string[] FromIntrinsics()
    {
        var flags = new List<string>();
        if (Avx2.IsSupported) flags.Add("avx2");
        if (Fma.IsSupported) flags.Add("fma");
        if (Avx512F.IsSupported) flags.Add("avx512f");
#if NET9_0_OR_GREATER // a preview API before .NET 9
        if (AvxVnni.IsSupported) flags.Add("avx_vnni");
#endif
        if (AdvSimd.IsSupported) flags.Add("asimd");
        return flags.ToArray();
    }

    private static string? Field(string text, string name)
    {
        foreach (var line in text.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line[..colon].Trim() == name) return line[(colon + 1)..].Trim();
        }
        return null;
    }

    private static string ReadCpuInfo()
    {
        try
        {
            return File.Exists("/proc/cpuinfo") ? File.ReadAllText("/proc/cpuinfo") : "";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}
