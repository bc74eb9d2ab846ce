using System;
using System.Linq;
using PrecisionPolicy.Casting;
using PrecisionPolicy.Distributed;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.IntegrationTests;

/// <summary>A BF16 probe whose gradients are reduced in BF16 (the default: the compute dtype).</summary>
[Autocast(Precision.BF16)]
public sealed partial class ComputeReducedProbe : Module<Tensor, Tensor>
{
    private readonly Linear fc = Linear(4, 1, hasBias: false);

    public ComputeReducedProbe() : base(nameof(ComputeReducedProbe)) => RegisterComponents();

    public override Tensor forward(Tensor x) => fc.call(x);
}

/// <summary>The same probe with <c>ReduceDtype = Float32</c>.</summary>
[Autocast(Precision.BF16, ReduceDtype = AutocastReduce.Float32)]
public sealed partial class Fp32ReducedProbe : Module<Tensor, Tensor>
{
    private readonly Linear fc = Linear(4, 1, hasBias: false);

    public Fp32ReducedProbe() : base(nameof(Fp32ReducedProbe)) => RegisterComponents();

    public override Tensor forward(Tensor x) => fc.call(x);
}

/// <summary>[Autocast(ReduceDtype = ...)] decides the dtype the generated simulated data-parallel step reduces in.</summary>
public sealed class ReduceDtypeTests : IDisposable
{
    private const float HalfUlp = 1f / 256; // 2^-8: half a BF16 ulp at 1.0
    private readonly DisposeScope scope = NewDisposeScope();

    public void Dispose() => scope.Dispose();

    // Four rows, one per rank: rank 0's input is 1.0 everywhere, ranks 1-3 hold 2^-8. With the loss
    // sum(output), rank k's weight gradient is its row, exact in BF16.
    private static Tensor Batch() => stack(new[] { ones(4), full(4, HalfUlp), full(4, HalfUlp), full(4, HalfUlp) });

    [Fact]
    public void The_default_reduces_in_the_compute_dtype_and_float32_reduces_exactly()
    {
        // SGD with lr 1 from w = 0 leaves master = -(ring sum of row_k / 4). BF16 rounds each partial sum of the
        // ring (DataParallelTests works the chunks out by hand): [1, 1.015625, 1.015625, 1] / 4; FP32 keeps
        // (1 + 3·2^-8) / 4 = 0.2529296875 in every element.
        var mode = new SimulatedDataParallel(4);
        Tensor Loss(Tensor output, Tensor _) => output.sum();

        var bf16 = new ComputeReducedProbe().ApplyPrecisionPolicy();
        using (no_grad()) bf16.parameters().Single().zero_();
        using var bf16Optimizer = bf16.CreateMixedPrecisionOptimizer(ps => optim.SGD(ps, 1.0));
        Assert.True(bf16.TrainStep(bf16Optimizer, Batch(), zeros(4, 1), Loss, mode).Applied);

        var fp32 = new Fp32ReducedProbe().ApplyPrecisionPolicy();
        using (no_grad()) fp32.parameters().Single().zero_();
        using var fp32Optimizer = fp32.CreateMixedPrecisionOptimizer(ps => optim.SGD(ps, 1.0));
        Assert.True(fp32.TrainStep(fp32Optimizer, Batch(), zeros(4, 1), Loss, mode).Applied);

        Assert.Equal(new[] { -0.25f, -0.25390625f, -0.25390625f, -0.25f }, bf16Optimizer.MasterOf("fc.weight").data<float>().ToArray());
        Assert.Equal(Enumerable.Repeat(-0.2529296875f, 4), fp32Optimizer.MasterOf("fc.weight").data<float>().ToArray());
    }

    [Fact]
    public void The_plan_carries_the_attributes_reduce_dtype_resolved_against_the_precision_in_force()
    {
        var compute = ((CompilerServices.IPrecisionPolicyModule)new ComputeReducedProbe()).PrecisionPlan;
        var fp32 = ((CompilerServices.IPrecisionPolicyModule)new Fp32ReducedProbe()).PrecisionPlan;

        Assert.Equal((AutocastReduce.Compute, ScalarType.BFloat16), (compute.Reduce, compute.ReduceDtype));
        Assert.Equal((AutocastReduce.Float32, ScalarType.Float32), (fp32.Reduce, fp32.ReduceDtype));
        using (AutocastScope.Use(Precision.FP16)) Assert.Equal(ScalarType.Float16, compute.ReduceDtype);
    }
}
