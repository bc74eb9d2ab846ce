using System;
using System.Collections.Generic;
using System.Globalization;
using PrecisionPolicy.Distributed;
using PrecisionPolicy.Quantization;

namespace PrecisionPolicy.Reports;

public static partial class MemoryPlan
{
    /// <summary>
    /// QLoRA fine-tuning (Dettmers et al. 2023): the base model's <paramref name="parameters"/> frozen in NF4
    /// (4 bits per parameter plus its block constants: 0.5 bits, or 0.127 double quantized — 4.127 bits in all),
    /// dequantized per GEMM to the compute dtype; the adapters train as in <see cref="ForLora"/> (compute-dtype
    /// working copy, FP32 master and Adam state). Every base parameter is counted in NF4, as the paper's
    /// arithmetic does; activations are the whole model's.
    /// </summary>
    public static IReadOnlyList<MemoryPlanLine> ForQlora(double parameters, Precision precision, LoraShape lora, bool doubleQuantize = true, ActivationShape? activations = null, bool runtimeAccumulators = false)
    {
        RequireCount(parameters, nameof(parameters));
        ArgumentNullException.ThrowIfNull(lora);
        if (precision is not (Precision.BF16 or Precision.FP16))
            throw new ArgumentException($"QLoRA dequantizes its NF4 base to BF16 or FP16 for compute; {precision} is not planned.", nameof(precision));
        var adapters = lora.AdapterParameters();
        var bits = NormalFloat4.BitsPerParameter(doubleQuantize);
        var lines = new List<MemoryPlanLine>
        {
            new("NF4 base codes", 0.5, 0.5 * parameters, "4-bit NormalFloat codes, two per byte; frozen: no master, gradient or state")
            {
                ShardedFrom = ZeroStage.Parameters,
            },
            new("NF4 block constants", (bits - 4) / 8, (bits - 4) / 8 * parameters,
                doubleQuantize ? "absmax per 64 in 8 bits + FP32 per 256 blocks: 0.127 bits/param" : "FP32 absmax per 64: 0.5 bits/param")
            {
                ShardedFrom = ZeroStage.Parameters,
            },
        };
        AddTrainable(lines, adapters, precision, runtimeAccumulators, "adapter ", string.Create(CultureInfo.InvariantCulture, $"; bytes/param per adapter parameter ({adapters:G3}: rank {lora.Rank} on {lora.ProjectionsPerLayer} projections x {lora.Layers} layers)"));
        AddActivations(lines, precision, activations, "of the whole model: backward runs through the dequantized base");
        return lines;
    }
}
