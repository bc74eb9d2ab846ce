namespace PrecisionPolicy.Optimization;

/// <summary>Bytes a <see cref="MasterWeightOptimizer"/> holds, by role.</summary>
/// <param name="MasterWeights">FP32 masters.</param>
/// <param name="GradientAccumulators">FP32 gradients accumulated across micro-batches.</param>
/// <param name="WorkingGradients">Low-precision gradient buffers backward writes into (none for FP32 parameters).</param>
/// <param name="OptimizerState">Tensors of the inner optimizer's state (FP32: it runs on the masters).</param>
public sealed record MasterWeightMemory(long MasterWeights, long GradientAccumulators, long WorkingGradients, long OptimizerState);
