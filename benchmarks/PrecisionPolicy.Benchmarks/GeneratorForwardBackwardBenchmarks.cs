using BenchmarkDotNet.Attributes;
using PrecisionPolicy;
using PrecisionPolicy.Casting;
using PrecisionPolicy.CompilerServices;
using PrecisionPolicy.Tracing;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.Benchmarks;

/// <summary>
/// Forward + backward of one transformer-style MLP block: the [Autocast(Precision.BF16)] class whose
/// casts the generator inserts (interceptors + ApplyPrecisionPolicy's boundary hooks) against the
/// same block with the same casts written by hand. Target: generated ≤ 1.02× hand-written.
/// </summary>
[MemoryDiagnoser]
public class GeneratorForwardBackwardBenchmarks
{
    private protected GeneratedBenchBlock generated = null!;
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
        // One intra-op thread: on a shared 2-core box, spinning OpenMP workers turn other processes'
        // load into 10x swings that would swamp the ~0.1 µs per cast being measured.
        TorchThreads.UseOne();
        NumericsTrace.Reset(); // the generated block runs with the trace off, whatever ran before
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
    public float GeneratedCasts() => Run(generated);

    private protected float Run(Module<Tensor, Tensor> model)
    {
        using var scope = NewDisposeScope();
        model.zero_grad();
        var loss = model.call(input).to(ScalarType.Float32).square().mean();
        loss.backward();
        return loss.item<float>();
    }
}

/// <summary>The benchmark block with compile-time casts.</summary>
[Autocast(Precision.BF16)]
public sealed partial class GeneratedBenchBlock : Module<Tensor, Tensor>
{
    private readonly LayerNorm norm;
    private readonly Linear fc1;
    private readonly Linear fc2;

    /// <summary>Creates the block.</summary>
    public GeneratedBenchBlock(int width) : base(nameof(GeneratedBenchBlock))
    {
        norm = LayerNorm(width);
        fc1 = Linear(width, 4 * width);
        fc2 = Linear(4 * width, width);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        var h = fc2.call(functional.gelu(fc1.call(norm.call(x))));
        var gate = functional.softmax(torch.matmul(h, h.transpose(0, 1)), -1);
        return torch.matmul(gate, h);
    }
}

/// <summary>The same block with the casts written by hand (what the interceptors do, inline).</summary>
public sealed class HandCastBenchBlock : Module<Tensor, Tensor>
{
    private const ScalarType Compute = ScalarType.BFloat16;
    private readonly LayerNorm norm;
    private readonly Linear fc1;
    private readonly Linear fc2;

    /// <summary>Creates the block with BF16 working weights for the linears, FP32 for the norm.</summary>
    public HandCastBenchBlock(int width) : base(nameof(HandCastBenchBlock))
    {
        norm = LayerNorm(width);
        fc1 = Linear(width, 4 * width);
        fc2 = Linear(4 * width, width);
        RegisterComponents();
        fc1.to(Compute);
        fc2.to(Compute);
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        var n = norm.call(Autocast.Float32(x));
        var h = PolicyCasts.LinearModule(fc2, functional.gelu(PolicyCasts.LinearModule(fc1, n, Compute)), Compute);
        var scores = Autocast.LowPrecisionResult(torch.matmul(Autocast.LowPrecision(h, Compute), Autocast.LowPrecision(h.transpose(0, 1), Compute)), Compute);
        var gate = functional.softmax(Autocast.Float32(scores), -1);
        return Autocast.LowPrecisionResult(torch.matmul(Autocast.LowPrecision(gate, Compute), Autocast.LowPrecision(h, Compute)), Compute);
    }
}
