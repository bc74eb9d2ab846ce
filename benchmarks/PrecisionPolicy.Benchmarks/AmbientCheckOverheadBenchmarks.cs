using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using PrecisionPolicy.CompilerServices;
using static TorchSharp.torch;

namespace PrecisionPolicy.Benchmarks;

/// <summary>
/// What a catalogued call written outside every policy pays for its ambient interceptor when no policy region is in
/// force, measured as <see cref="TraceOffOverheadBenchmarks"/> measures the trace check: a call through an
/// interceptor of the generated shape (read <see cref="PolicyRegion.Current"/>, then call the op untouched) against
/// the op called directly; the op is a call that is not inlined, so only the check differs. Per call. Also the cost
/// of entering and leaving a region, which a policy's call into a helper pays once.
/// </summary>
public class AmbientCheckOverheadBenchmarks
{
    private const int Calls = 1000;
    private Tensor input = null!;

    [GlobalSetup]
    public void Setup() => input = zeros(1).DetachFromDisposeScope();

    [GlobalCleanup]
    public void Cleanup() => input.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Calls)]
    public Tensor OpCalledDirectly()
    {
        var result = input;
        for (var i = 0; i < Calls; i++) result = Op(result);
        return result;
    }

    [Benchmark(OperationsPerInvoke = Calls)]
    public Tensor OpThroughAmbientInterceptor()
    {
        var result = input;
        for (var i = 0; i < Calls; i++) result = Ambient(result);
        return result;
    }

    [Benchmark(OperationsPerInvoke = Calls)]
    public Tensor RegionEnteredAndLeft()
    {
        var result = input;
        for (var i = 0; i < Calls; i++) result = Entered(result);
        return result;
    }

    // The generated ambient interceptor's body outside every region.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Tensor Ambient(Tensor x)
    {
        if (PolicyRegion.Current is not { } policy) return Op(x);
        return Op(policy.LowPrecision(x));
    }

    // The generated region entry of a helper call.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Tensor Entered(Tensor x)
    {
        using var region = PolicyRegion.Enter(ScalarType.BFloat16);
        return Op(x);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Tensor Op(Tensor x) => x;
}
