using BenchmarkDotNet.Attributes;
using PrecisionPolicy.Tracing;

namespace PrecisionPolicy.Benchmarks;

/// <summary>
/// What the numerics trace costs: the forward + backward benchmark of the generated block (its generated
/// casts run with the trace off: each interceptor checks one static bool) with the trace on beside it
/// (device-side statistics, a host read every 50 steps). Target: off within 1% of hand-written.
/// </summary>
public class NumericsTraceBenchmarks : GeneratorForwardBackwardBenchmarks
{
    [Benchmark]
    public float GeneratedTraceOn()
    {
        NumericsTrace.Enable();
        try
        {
            var loss = Run(generated);
            NumericsTrace.EndStep();
            return loss;
        }
        finally
        {
            NumericsTrace.Disable();
        }
    }
}
