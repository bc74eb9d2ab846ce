using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;

namespace PrecisionPolicy.Casting;

/// <summary>
/// The CPU this process runs on: its model name and the instruction-set flags that decide how fast
/// libtorch's GEMM kernels are (oneDNN uses AVX512-BF16/AVX512-FP16/AMX for native 16-bit GEMMs).
/// For reports, benchmark headers and the key of the GEMM calibration cache.
/// </summary>
/// <remarks>
/// The flags come from the runtime (<see cref="CpuFeatures"/>: <c>System.Runtime.Intrinsics</c> and, for
/// the extensions .NET has no class for, the CPUID instruction it exposes) on every OS; /proc/cpuinfo is
/// read only for the flags .NET cannot answer (ARM's FP16 and BF16 arithmetic; SVE, whose .NET class is
/// still experimental), so only those are missing where there is no /proc/cpuinfo. The model name is the CPU's own brand string on x86.
/// </remarks>
public static class HostCpu
{
    // The flags that change which GEMM kernels libtorch can pick, in /proc/cpuinfo spelling.
    private static readonly string[] GemmFlags =
    {
        "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "avx_vnni",
        "amx_tile", "amx_bf16", "amx_fp16", "asimd", "asimdhp", "bf16", "sve", "sve2",
    };

    private static readonly Lazy<(string Model, string[] Flags)> Info = new(Read);

    /// <summary>The CPU model name (the brand string on x86; /proc/cpuinfo on other Linux CPUs; the architecture elsewhere).</summary>
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
        var model = CpuFeatures.BrandString() ?? Field(text, "model name") ?? Field(text, "Hardware") ?? Field(text, "Processor")
            ?? Environment.GetEnvironmentVariable("PROCESSOR_IDENTIFIER")
            ?? RuntimeInformation.ProcessArchitecture.ToString();
        var known = CpuFeatures.Detect();
        var listed = ListedFlags(text);
        var flags = GemmFlags.Where(f => known.TryGetValue(f, out var has) ? has : listed?.Contains(f, StringComparer.Ordinal) == true).ToArray();
        return (model.Trim(), flags);
    }

    /// <summary>The flags /proc/cpuinfo lists (<c>flags</c> on x86, <c>Features</c> on ARM), or null without it.</summary>
    internal static string[]? ListedFlags(string cpuInfo) =>
        (Field(cpuInfo, "flags") ?? Field(cpuInfo, "Features"))?.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    internal static string? Field(string text, string name)
    {
        foreach (var line in text.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line[..colon].Trim() == name) return line[(colon + 1)..].Trim();
        }
        return null;
    }

    internal static string ReadCpuInfo()
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
