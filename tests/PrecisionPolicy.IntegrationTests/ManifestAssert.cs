using PrecisionPolicy.Optimization;
using PrecisionPolicy.Policy;
using Xunit;

namespace PrecisionPolicy.IntegrationTests;

/// <summary>What the manifest tests check alike.</summary>
internal static class ManifestAssert
{
    /// <summary>The manifest's masters, accumulators, working gradients and optimizer state are the bytes the optimizer says it holds.</summary>
    public static void MatchesOptimizerMemory(PrecisionManifest manifest, MasterWeightOptimizer optimizer)
    {
        var memory = optimizer.Memory();
        Assert.Equal(memory.MasterWeights, manifest.BytesOf(TensorRole.MasterWeight));
        Assert.Equal(memory.GradientAccumulators, manifest.BytesOf(TensorRole.GradientAccumulator));
        Assert.Equal(memory.WorkingGradients, manifest.BytesOf(TensorRole.Gradient));
        Assert.Equal(memory.OptimizerState, manifest.BytesOf(TensorRole.OptimizerState));
    }
}
