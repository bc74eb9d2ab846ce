using System.Linq;
using BenchmarkDotNet.Attributes;
using PrecisionPolicy.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PrecisionPolicy.Benchmarks;

/// <summary>
/// The optimizer step alone, 1000 parameter tensors of 2^20 or 2^22 elements in all, side by side:
/// TorchSharp's <c>optim.AdamW</c> stepping each FP32 parameter (the baseline), and the toolkit's
/// whole mixed-precision step over BF16 working weights (fold the BF16 gradients into the FP32
/// accumulators, one finiteness+norm reduction, then per 2^17-element chunk: AdamW, run by the
/// toolkit in two passes with TorchSharp's result bitwise, cast the masters back to BF16, clear the
/// gradients). Each iteration sets every gradient to 0.01 on both sides, then backpropagates a
/// one-element loss of the first tensor. Target: toolkit ≤ 0.7×.
/// <para>
/// The floor: AdamW must read master, gradient and both moments and write master and moments, 28 B
/// per FP32 element; <see cref="Copy28BytesPerElement"/> moves exactly that much (a copy of 3.5
/// FP32 values per element), so it is the memory-bandwidth time of AdamW on this machine.
/// </para>
/// <para>
/// Bytes per element the toolkit's step moves to and from memory, from its op list: the fold reads
/// the BF16 gradient (2), writes the FP32 accumulator (4) and clears the BF16 gradient (2); the norm
/// reads the accumulator (4); each chunk's AdamW (the toolkit's two passes, bitwise TorchSharp's
/// AdamW) reads master, gradient and moments and writes master and moments (28), then the chunk writes
/// the BF16 weight (2) and clears the accumulator (4): 46 B, 1.6× the floor. In cache, per chunk,
/// the first pass moves 36 B per element (it also copies the second moment out), libtorch's square
/// root 8, the second pass 16: 60 B, where TorchSharp's nine AdamW ops move 88 (mul_ 8, mul_ 8,
/// add_ 12, mul_ 8, addcmul_ 12, sqrt 8, div 8, add_ 8, addcdiv_ 16); the baseline runs those nine
/// ops per tensor, 9000 ops a step.
/// </para>
/// <para>
/// Measured (AMD EPYC, 2 cores, AVX2+FMA, libtorch 2.10, one torch thread), in thread CPU time,
/// interleaved (<c>-- optimizer-ratio</c>): see docs/benchmarks.md. Before the toolkit ran AdamW's
/// arithmetic itself (TorchSharp's nine ops per chunk) the ratio was 0.24 / 0.71 at 2^20 / 2^22 on the
/// quiet machine; before the step ran chunk by chunk (one step() over all chunks, the write-back and
/// clear over whole buffers) it was 0.99 at 2^22: AdamW's temporaries of the whole buffer were freed
/// together and page-faulted afresh every step. BenchmarkDotNet's own numbers come from
/// <c>-- --filter '*OptimizerVsTorchSharp*' --iterationCount 15 --warmupCount 3</c>.
/// </para>
/// </summary>
[MemoryDiagnoser]
public class OptimizerVsTorchSharpBenchmarks
{
    private const int Tensors = 1000;
    private Parameter[] parameters = [];
    private OptimizerHelper? plain;
    private MasterWeightOptimizer? toolkit;
    private Tensor? copySource;
    private Tensor? copyTarget;
    private readonly Scalar gradient = 0.01.ToScalar(); // held: TorchSharp 0.107 can finalize a temporary Scalar while an op still reads it

    [Params(1 << 20, 1 << 22)]
    public int Elements { get; set; }

    [GlobalSetup(Target = nameof(TorchSharpAdamWPerParameter))]
    public void SetupPlain()
    {
        TorchThreads.UseOne();
        parameters = Build(ScalarType.Float32);
        foreach (var p in parameters) p.grad = zeros_like(p).DetachFromDisposeScope();
        plain = optim.AdamW(parameters, 1e-3);
    }

    [GlobalSetup(Target = nameof(ToolkitBf16MixedPrecisionStep))]
    public void SetupToolkit()
    {
        TorchThreads.UseOne();
        parameters = Build(ScalarType.BFloat16);
        toolkit = new MasterWeightOptimizer(parameters.Select((p, i) => ($"p{i}", p)), ps => optim.AdamW(ps, 1e-3));
    }

    [GlobalSetup(Target = nameof(Copy28BytesPerElement))]
    public void SetupCopy()
    {
        TorchThreads.UseOne();
        copySource = randn(Elements * 7L / 2).DetachFromDisposeScope();
        copyTarget = empty_like(copySource).DetachFromDisposeScope();
    }

    [Benchmark(Baseline = true)]
    public void TorchSharpAdamWPerParameter()
    {
        using var scope = NewDisposeScope();
        SetGradients();
        parameters[0].sum().backward();
        plain!.step();
    }

    [Benchmark]
    public bool ToolkitBf16MixedPrecisionStep()
    {
        using var scope = NewDisposeScope();
        SetGradients();
        return toolkit!.Step(parameters[0].sum()).Applied;
    }

    [Benchmark]
    public void Copy28BytesPerElement()
    {
        using var _ = no_grad();
        copyTarget!.copy_(copySource!);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        plain?.Dispose();
        toolkit?.Dispose();
        (plain, toolkit) = (null, null);
        foreach (var p in parameters) p.Dispose();
        copySource?.Dispose();
        copyTarget?.Dispose();
    }

    // The same nonzero gradient everywhere on both sides. Gradients left at zero keep the moments at
    // zero, and libtorch's square root of zero runs ~7x slower than of other values (measured on a
    // 2^17-element chunk): the side that kept zeros would time that path instead of its optimizer.
    // Before its first step the toolkit's parameters have no gradient; from then on their gradients
    // are views of its BF16 gradient buffer, which its fold reads.
    private void SetGradients()
    {
        foreach (var p in parameters) p.grad?.fill_(gradient);
    }

    private Parameter[] Build(ScalarType dtype)
    {
        manual_seed(1);
        var each = Elements / Tensors;
        // The remainder goes to the last tensor, so the total is exactly 2^20 or 2^22.
        return Enumerable.Range(0, Tensors)
            .Select(i => new Parameter(randn(i == Tensors - 1 ? Elements - each * (Tensors - 1) : each).to(dtype), requires_grad: true))
            .ToArray();
    }
}
