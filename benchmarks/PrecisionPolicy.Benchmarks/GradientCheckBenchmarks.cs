using BenchmarkDotNet.Attributes;
using static TorchSharp.torch;

namespace PrecisionPolicy.Benchmarks;

/// <summary>
/// The step's check of the flat FP32 gradient buffer: a finiteness pass (<c>isfinite().all()</c>, a
/// bool tensor as large as the buffer) then the norm, two reductions and two host syncs, against
/// the norm alone, which the master-weight step now uses for both (a finite FP32 norm means every
/// gradient is finite). 6.3M elements is the sample GPT at width 512.
/// </summary>
public class GradientCheckBenchmarks
{
    private Tensor gradients = null!;

    [Params(1 << 20, 6_300_000)]
    public int Elements { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        TorchThreads.UseOne();
        manual_seed(1);
        gradients = randn(Elements).DetachFromDisposeScope();
    }

    [Benchmark(Baseline = true)]
    public float FinitenessThenNorm()
    {
        using var scope = NewDisposeScope();
        return gradients.isfinite().all().item<bool>() ? gradients.norm().item<float>() : float.NaN;
    }

    [Benchmark]
    public float NormOnly()
    {
        using var scope = NewDisposeScope();
        return gradients.norm().item<float>();
    }

    [GlobalCleanup]
    public void Cleanup() => gradients.Dispose();
}
