using System.Linq;
using BenchmarkDotNet.Attributes;
using PrecisionPolicy;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Scaling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PrecisionPolicy.Benchmarks;

/// <summary>
/// One master-weight step (backward of a one-tensor loss, fold, unscale, finiteness check, Adam,
/// copy back) over 2^20 BF16 parameters split into 10, 100 or 1000 tensors. With the flat layout
/// the step's tensor-op count does not depend on the number of tensors; the per-tensor layout is
/// the baseline where Adam runs once per tensor.
/// </summary>
[MemoryDiagnoser]
public class MasterWeightStepBenchmarks
{
    private const long TotalElements = 1 << 20;
    private Parameter[] working = [];
    private MasterWeightOptimizer optimizer = null!;

    [Params(10, 100, 1000)]
    public int Tensors { get; set; }

    [Params(MasterLayout.Flat, MasterLayout.PerTensor)]
    public MasterLayout Layout { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        TorchThreads.UseOne();
        var each = TotalElements / Tensors;
        working = Enumerable.Range(0, Tensors)
            .Select(_ => new Parameter(randn(each).to(ScalarType.BFloat16), requires_grad: true))
            .ToArray();
        var named = working.Select((p, i) => ($"p{i}", p));
        optimizer = new MasterWeightOptimizer(named, ps => optim.Adam(ps, 1e-3), new MasterWeightOptions
        {
            Scaling = LossScalerOptions.Dynamic,
            Layout = Layout,
        });
    }

    [Benchmark]
    public bool Step()
    {
        using var scope = NewDisposeScope();
        return optimizer.Step(working[0].sum()).Applied;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        optimizer.Dispose();
        foreach (var p in working) p.Dispose();
    }
}
