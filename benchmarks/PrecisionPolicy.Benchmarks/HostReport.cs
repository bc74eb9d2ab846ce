using System;
using PrecisionPolicy.Casting;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Benchmarks;

/// <summary>Where the benchmarks ran: CPU model and flags, libtorch, threads, and the GEMM calibration per 16-bit dtype.</summary>
internal static class HostReport
{
    public static string Text()
    {
        var lines = $"CPU: {HostCpu.Describe()}\nlibtorch {torch.__version__}, {get_num_threads()} torch threads\n";
        foreach (var dtype in new[] { ScalarType.BFloat16, ScalarType.Float16 })
            lines += $"GEMM mode for {dtype} on CPU: {GemmModes.Describe(DeviceType.CPU, dtype)}\n";
        return lines;
    }
}
