using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using PrecisionPolicy.CompilerServices;
using PrecisionPolicy.Tracing;
using static TorchSharp.torch;

namespace PrecisionPolicy.Benchmarks;

/// <summary>
/// What the numerics trace adds to a step when it is off, measured piece by piece: a training step's
/// difference is far below what an end-to-end comparison can resolve on a shared machine, so this
/// measures the two things the trace added to the step and leaves the sum to arithmetic.
/// <list type="bullet">
/// <item><see cref="InterceptorWithTraceCheck"/> against <see cref="InterceptorWithoutTraceCheck"/>: a call
/// through an interceptor of the generated shape (check <see cref="NumericsTrace.IsOn"/>, then run the
/// site's casts) against one that runs the casts directly, as the interceptors did before the trace
/// existed; the casts are a call that is not inlined, so only the check differs. Per call.</item>
/// <item><see cref="EndStepWithTraceOff"/>: the per-step <see cref="NumericsTrace.EndStep"/> that a
/// <see cref="MasterWeightOptimizer"/> calls.</item>
/// </list>
/// The step's added cost is sites × (with − without) + EndStep; <see cref="NumericsTraceBenchmarks"/>
/// measures the step itself (the block there has 6 intercepted sites).
/// </summary>
public class TraceOffOverheadBenchmarks
{
    private const int Calls = 1000;
    private static readonly NumericsSite Site = new("Bench.cs", 1, 1, "Linear", "bench", ScalarType.BFloat16);
    private Tensor input = null!;

    [GlobalSetup]
    public void Setup()
    {
        NumericsTrace.Reset();
        input = zeros(1).DetachFromDisposeScope();
    }

    [GlobalCleanup]
    public void Cleanup() => input.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Calls)]
    public Tensor InterceptorWithoutTraceCheck()
    {
        var result = input;
        for (var i = 0; i < Calls; i++) result = WithoutCheck(result);
        return result;
    }

    [Benchmark(OperationsPerInvoke = Calls)]
    public Tensor InterceptorWithTraceCheck()
    {
        var result = input;
        for (var i = 0; i < Calls; i++) result = WithCheck(result);
        return result;
    }

    [Benchmark]
    public void EndStepWithTraceOff() => NumericsTrace.EndStep();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Tensor WithoutCheck(Tensor x) => Casts(x);

    // The generated interceptor's body, with the site's casts behind the trace check.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Tensor WithCheck(Tensor x)
    {
        if (!NumericsTrace.IsOn) return Casts(x);
        TracedCalls.Inputs(Site, x);
        return TracedCalls.Output(Site, Casts(x));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Tensor Casts(Tensor x) => x;
}
