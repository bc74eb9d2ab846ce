using System;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Scaling;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.IntegrationTests;

/// <summary>The generated <c>CreateMixedPrecisionOptimizer(factory, MasterWeightOptions)</c>.</summary>
public sealed class OptimizerOptionsTests : IDisposable
{
    private readonly DisposeScope scope = NewDisposeScope();

    public void Dispose() => scope.Dispose();

    [Fact]
    public void Options_without_scaling_keep_the_class_loss_scaling_and_apply_the_other_settings()
    {
        var model = new HalfInner(4).ApplyPrecisionPolicy();
        using var optimizer = model.CreateMixedPrecisionOptimizer(ps => optim.SGD(ps, 0.1),
            new MasterWeightOptions { MaxGradNorm = 0.5, TrackGradientStatistics = true, Layout = MasterLayout.PerTensor });
        Assert.Equal(LossScalingMode.Dynamic, optimizer.Scaler.Options.Mode); // FP16's default, as without options
        Assert.Equal(LossScalerOptions.DefaultInitialScale, optimizer.Scaler.Scale);
        Assert.Equal((0.5, true, MasterLayout.PerTensor), (optimizer.Options.MaxGradNorm, optimizer.Options.TrackGradientStatistics, optimizer.Options.Layout));
        // Small inputs and a zero target keep the scaled FP16 gradients below FP16's maximum: the step applies.
        var outcome = model.TrainStep(optimizer, full(2, 4, 0.01f), zeros(2, 4), (o, t) => nn.functional.mse_loss(o, t));
        Assert.True(outcome.Applied);
        Assert.NotNull(outcome.Gradients); // TrackGradientStatistics reached the optimizer
    }

    [Fact]
    public void Options_with_scaling_replace_the_class_loss_scaling()
    {
        var model = new HalfInner(4).ApplyPrecisionPolicy();
        using var optimizer = model.CreateMixedPrecisionOptimizer(ps => optim.SGD(ps, 0.1),
            new MasterWeightOptions { Scaling = LossScalerOptions.Dynamic with { InitialScale = 128, MaxConsecutiveSkips = null } });
        Assert.Equal(128, optimizer.Scaler.Scale);
        Assert.Null(optimizer.Scaler.Options.MaxConsecutiveSkips);
    }

    [Fact]
    public void The_max_grad_norm_overload_still_works()
    {
        var model = new HalfInner(4).ApplyPrecisionPolicy();
        using var optimizer = model.CreateMixedPrecisionOptimizer(ps => optim.SGD(ps, 0.1), maxGradNorm: 2.0);
        Assert.Equal(2.0, optimizer.Options.MaxGradNorm);
        Assert.Equal(LossScalingMode.Dynamic, optimizer.Scaler.Options.Mode);
        Assert.Throws<ArgumentNullException>(() => model.CreateMixedPrecisionOptimizer(ps => optim.SGD(ps, 0.1), (MasterWeightOptions)null!));
    }
}
