using Xunit;

// Tests share the process-wide GEMM-mode override: run them one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace PrecisionPolicy.IntegrationTests;

internal static class TestThreads
{
    /// <summary>
    /// Tiny tensors gain nothing from intra-op threads, and on a shared 2-core box spinning OpenMP
    /// workers multiply run times (the convergence test: 40 s with two threads under load, 2 s with one).
    /// </summary>
    [System.Runtime.CompilerServices.ModuleInitializer]
    internal static void OneIntraOpThread() => TorchSharp.torch.set_num_threads(1);
}
