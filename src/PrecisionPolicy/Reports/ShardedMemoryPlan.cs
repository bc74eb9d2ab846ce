using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using PrecisionPolicy.Distributed;

namespace PrecisionPolicy.Reports;

/// <summary>
/// Per-GPU bytes of a <see cref="MemoryPlan"/> under ZeRO or FSDP sharding: a line is divided by
/// the GPU count once the stage partitions its role (<see cref="MemoryPlanLine.ShardedFrom"/>).
/// With mixed-precision Adam (K = 12 bytes of FP32 master and moments per parameter) this is the
/// ZeRO paper's layout per GPU: stage 1 2Ψ + 2Ψ + KΨ/N, stage 2 2Ψ + (2 + K)Ψ/N, stage 3
/// (2 + 2 + K)Ψ/N. Activations stay whole: each rank keeps those of its own micro-batch.
/// </summary>
public static class ShardedMemoryPlan
{
    /// <summary>The lines of <paramref name="plan"/> as one GPU of <paramref name="sharding"/> holds them.</summary>
    public static IReadOnlyList<MemoryPlanLine> PerGpu(IReadOnlyList<MemoryPlanLine> plan, Sharding sharding)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(sharding);
        return plan.Select(line => IsSharded(line, sharding)
            ? line with
            {
                BytesPerParameter = line.BytesPerParameter / sharding.Gpus,
                Bytes = line.Bytes / sharding.Gpus,
                Note = line.Note + string.Create(CultureInfo.InvariantCulture, $"; 1/{sharding.Gpus} per GPU"),
            }
            : line).ToArray();
    }

    private static bool IsSharded(MemoryPlanLine line, Sharding sharding) =>
        line.ShardedFrom is { } from && sharding.Stage.Partitions(from);
}
