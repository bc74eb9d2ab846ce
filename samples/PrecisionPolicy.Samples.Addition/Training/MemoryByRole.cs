using System.Collections.Generic;
using PrecisionPolicy.Casting;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Policy;
using PrecisionPolicy.Reports;
using PrecisionPolicy.Samples.Addition.Data;
using PrecisionPolicy.Samples.Addition.Model;

namespace PrecisionPolicy.Samples.Addition.Training;

/// <summary>
/// Bytes by role for one run: parameters, statistics and FP8 scaling state from the generated
/// precision manifest; masters, gradients and optimizer state as the optimizer holds them (the
/// manifest's are per-parameter estimates); activations estimated from the model's shape.
/// </summary>
public static class MemoryByRole
{
    public static IReadOnlyDictionary<string, long> Of(TinyGpt model, MasterWeightMemory memory, AdditionTask task, TrainingOptions options)
    {
        var manifest = model.GetPrecisionManifest();
        var shape = new ActivationShape(options.Batch, task.ContextLength, options.Width, options.Layers, options.Heads);
        var precision = AutocastScope.Effective(manifest.Precision);
        return new Dictionary<string, long>
        {
            ["working weights"] = manifest.BytesOf(TensorRole.WorkingWeight),
            ["master weights"] = memory.MasterWeights,
            ["gradients"] = memory.WorkingGradients + memory.GradientAccumulators,
            ["optimizer state"] = memory.OptimizerState,
            ["buffers"] = manifest.BytesOf(TensorRole.NormStatistics) + manifest.BytesOf(TensorRole.Buffer),
            ["fp8 scaling state"] = manifest.BytesOf(TensorRole.Fp8ScalingState),
            ["activations (est.)"] = (long)MemoryPlan.ActivationBytes(shape, MemoryPlan.ActivationElementSize(precision)),
        };
    }
}
