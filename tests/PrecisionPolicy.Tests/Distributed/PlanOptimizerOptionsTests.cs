using System;
using PrecisionPolicy.CompilerServices;
using PrecisionPolicy.Distributed;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Scaling;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Distributed;

/// <summary>
/// What the generated <c>CreateMixedPrecisionOptimizer</c> passes on (<see cref="PrecisionPlan.OptimizerOptions"/>): the
/// class's loss scaling, reduce dtype and policy where the options leave them null; the optimizer's constructor reads
/// no plan (NamespaceCycleTests keeps Optimization and Distributed from naming CompilerServices).
/// </summary>
public sealed class PlanOptimizerOptionsTests
{
    private static readonly ICommunicator World = new SingleRankCommunicator();

    [Fact]
    public void Null_settings_become_the_classs_and_the_policy_joins_what_ranks_agree_on()
    {
        var plan = new PrecisionPlan("Block", Precision.FP16, ["router"], reduce: AutocastReduce.Float32);

        var resolved = plan.OptimizerOptions(new MasterWeightOptions { MaxGradNorm = 1.0, DataParallel = new DataParallelOptions(World) });

        Assert.Equal(LossScalingMode.Dynamic, resolved.Scaling!.Mode);
        Assert.Equal(1.0, resolved.MaxGradNorm);
        Assert.Equal(ScalarType.Float32, resolved.DataParallel!.ReduceDtype);
        Assert.Equal(plan.ToString(), resolved.DataParallel.Policy);
        Assert.Same(World, resolved.DataParallel.Communicator);
    }

    [Fact]
    public void Settings_the_options_give_are_kept()
    {
        var plan = new PrecisionPlan("Block", Precision.FP16, []); // reduce: the compute dtype, float16
        var options = new MasterWeightOptions
        {
            Scaling = LossScalerOptions.Static(1024),
            DataParallel = new DataParallelOptions(World) { ReduceDtype = ScalarType.BFloat16, Stage = ZeroStage.Gradients },
        };

        var resolved = plan.OptimizerOptions(options);

        Assert.Same(options.Scaling, resolved.Scaling);
        Assert.Equal((ScalarType?)ScalarType.BFloat16, resolved.DataParallel!.ReduceDtype);
        Assert.Equal(ZeroStage.Gradients, resolved.DataParallel.Stage);
        Assert.Null(options.DataParallel.Policy); // the caller's options are not changed
        Assert.Equal(ScalarType.Float16, plan.OptimizerOptions(new MasterWeightOptions { DataParallel = new DataParallelOptions(World) }).DataParallel!.ReduceDtype);
    }

    [Fact]
    public void Without_data_parallel_only_scaling_is_resolved_and_null_options_are_refused()
    {
        var plan = new PrecisionPlan("Block", Precision.BF16, []);

        var resolved = plan.OptimizerOptions(new MasterWeightOptions());

        Assert.Null(resolved.DataParallel);
        Assert.Equal(LossScalingMode.Off, resolved.Scaling!.Mode);
        Assert.Throws<ArgumentNullException>(() => plan.OptimizerOptions(null!));
    }

    [Fact]
    public void The_optimizer_built_directly_takes_the_options_as_given()
    {
        using var model = nn.Linear(2, 1);
        using var optimizer = new MasterWeightOptimizer(model, ps => optim.SGD(ps, 0.1), new MasterWeightOptions { DataParallel = new DataParallelOptions(World) });

        Assert.Null(optimizer.Options.DataParallel!.ReduceDtype);
        Assert.Null(optimizer.Options.DataParallel.Policy);
    }
}
