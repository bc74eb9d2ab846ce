using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy.Samples.Addition.Training;

namespace PrecisionPolicy.Samples.Addition.Reporting;

/// <summary>Each run's peak tensor memory over the FP32 run's: where the low-precision activations show.</summary>
public static class PeakMemoryRatio
{
    /// <summary>
    /// Run name to ratio against the last FP32 run (a run named twice: its last too), so that
    /// <c>--precisions fp32,bf16,fp32,bf16</c> compares the second pair, which the process's one-time libtorch
    /// allocations no longer inflate; empty without an FP32 run or a measurement (0 bytes: not glibc).
    /// </summary>
    public static IReadOnlyDictionary<string, double> Of(IReadOnlyList<RunResult> results)
    {
        var ratios = new Dictionary<string, double>();
        var reference = results.LastOrDefault(r => r.Name == "fp32");
        if (reference is null || reference.PeakTensorBytes <= 0) return ratios;
        foreach (var r in results.Where(r => r.PeakTensorBytes > 0))
            ratios[r.Name] = (double)r.PeakTensorBytes / reference.PeakTensorBytes;
        return ratios;
    }
}
