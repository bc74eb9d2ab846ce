using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy.Samples.Addition.Data;
using PrecisionPolicy.Samples.Addition.Model;

namespace PrecisionPolicy.Samples.Addition.Training;

/// <summary>Bytes by role for one run: parameters as stored, the optimizer's buffers, an activation estimate.</summary>
public static class MemoryByRole
{
    public static IReadOnlyDictionary<string, long> Of(TinyGpt model, MasterWeightOptimizer optimizer, AdditionTask task, TrainingOptions options)
    {
        var memory = optimizer.Memory();
        var working = model.parameters().Sum(p => p.numel() * p.element_size());
        var buffers = model.buffers().Sum(b => b.numel() * b.element_size());
        var shape = new ActivationShape(options.Batch, task.ContextLength, options.Width, options.Layers, options.Heads);
        var precision = AutocastScope.Current ?? Precision.FP32;
        return new Dictionary<string, long>
        {
            ["working weights"] = working,
            ["master weights"] = memory.MasterWeights,
            ["gradients"] = memory.WorkingGradients + memory.GradientAccumulators,
            ["optimizer state"] = memory.OptimizerState,
            ["buffers"] = buffers,
            ["activations (est.)"] = (long)MemoryPlan.ActivationBytes(shape, MemoryPlan.ActivationElementSize(precision)),
        };
    }
}
