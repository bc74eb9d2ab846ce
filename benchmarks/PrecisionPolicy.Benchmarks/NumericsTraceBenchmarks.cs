using BenchmarkDotNet.Attributes;
using PrecisionPolicy;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.Benchmarks;

/// <summary>
/// What the numerics trace costs: forward + backward of the generated block with the trace off (each
/// interceptor checks one static bool) and on (device-side statistics, a host read every 50 steps),
/// against the same block with the casts written by hand and no sites. Target: off within 1% of hand-written.
/// </summary>
[MemoryDiagnoser]
public class NumericsTraceBenchmarks
{
    private GeneratedBenchBlock generated = null!;
    private HandCastBenchBlock handWritten = null!;
    private Tensor input = null!;

    [Params(64)]
    public int Batch { get; set; }

    [Params(16, 256)]
    public int Width { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        GemmModes.Override(DeviceType.CPU, GemmMode.Native);
        torch.set_num_threads(1); // see GeneratorForwardBackwardBenchmarks
        NumericsTrace.Reset();
        manual_seed(1);
        generated = new GeneratedBenchBlock(Width).ApplyPrecisionPolicy();
        manual_seed(1);
        handWritten = new HandCastBenchBlock(Width);
        input = randn(Batch, Width).DetachFromDisposeScope();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NumericsTrace.Reset();
        GemmModes.Override(DeviceType.CPU, null);
    }

    [Benchmark(Baseline = true)]
    public float HandWrittenCasts() => Run(handWritten);

    [Benchmark]
    public float GeneratedTraceOff() => Run(generated);

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

    private float Run(Module<Tensor, Tensor> model)
    {
        using var scope = NewDisposeScope();
        model.zero_grad();
        var loss = model.call(input).to(ScalarType.Float32).square().mean();
        loss.backward();
        return loss.item<float>();
    }
}
