using System;
using System.IO;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Scaling;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Optimization;

/// <summary><see cref="MasterWeightOptimizer.state_dict"/> and <see cref="MasterWeightOptimizer.load_state_dict"/>: the checkpoint as an in-memory value.</summary>
public sealed class StateDictTests : IDisposable
{
    private readonly DisposeScope scope = NewDisposeScope();
    private readonly (Tensor X, Tensor Y) data = Fixtures.Regression(16, 16, 4, seed: 5);

    public void Dispose() => scope.Dispose();

    private static MasterWeightOptimizer Optimizer(nn.Module model) =>
        new(model, ps => optim.Adam(ps, 1e-2), new MasterWeightOptions { Scaling = LossScalerOptions.Dynamic with { GrowthInterval = 2 } });

    [Fact]
    public void Load_state_dict_restores_every_byte_the_state_dict_held()
    {
        var model = Fixtures.Mlp(ScalarType.BFloat16);
        using var optimizer = Optimizer(model);
        Fixtures.TrainMse(model, optimizer, data.X, data.Y, 3);
        var saved = OptimizerSnapshot.Of(optimizer, model);
        var state = optimizer.state_dict();

        Fixtures.TrainMse(model, optimizer, data.X, data.Y, 3);
        Assert.NotEqual(saved.Masters, OptimizerSnapshot.Of(optimizer, model).Masters);
        optimizer.load_state_dict(state);

        OptimizerSnapshot.Of(optimizer, model).AssertEqual(saved);
        Assert.Equal(saved.Scaler, state.Scaler);
        Assert.Equal(optimizer.ParameterNames, state.ParameterNames);
        Assert.Equal(LossScalingMode.Dynamic, state.ScalingMode);
    }

    [Fact]
    public void A_state_dict_moved_to_a_new_optimizer_continues_the_run_bitwise()
    {
        var model = Fixtures.Mlp(ScalarType.BFloat16);
        using var optimizer = Optimizer(model);
        Fixtures.TrainMse(model, optimizer, data.X, data.Y, 2);
        var state = optimizer.state_dict();
        Fixtures.TrainMse(model, optimizer, data.X, data.Y, 2);

        var other = Fixtures.Mlp(ScalarType.BFloat16, seed: 99);
        using var resumed = Optimizer(other);
        resumed.load_state_dict(state);
        Fixtures.TrainMse(other, resumed, data.X, data.Y, 2);
        OptimizerSnapshot.Of(resumed, other).AssertEqual(OptimizerSnapshot.Of(optimizer, model));
    }

    [Fact]
    public void Write_to_gives_a_checkpoint_that_load_reads()
    {
        var model = Fixtures.Mlp(ScalarType.Float32);
        using var optimizer = Optimizer(model);
        Fixtures.TrainMse(model, optimizer, data.X, data.Y, 2);
        var saved = OptimizerSnapshot.Of(optimizer, model);
        using var file = new MemoryStream();
        optimizer.state_dict().WriteTo(file);
        Assert.Equal(optimizer.state_dict().Length, file.Length);

        Fixtures.TrainMse(model, optimizer, data.X, data.Y, 2);
        file.Position = 0;
        optimizer.Load(file);
        OptimizerSnapshot.Of(optimizer, model).AssertEqual(saved);
    }

    [Fact]
    public void A_state_dict_of_other_parameters_is_a_clear_error_and_changes_nothing()
    {
        var wider = Fixtures.Mlp(ScalarType.BFloat16, hidden: 8);
        using var wide = Optimizer(wider);
        var foreign = wide.state_dict();

        var model = Fixtures.Mlp(ScalarType.BFloat16);
        using var optimizer = Optimizer(model);
        Fixtures.TrainMse(model, optimizer, data.X, data.Y, 2);
        var before = OptimizerSnapshot.Of(optimizer, model);
        var error = Assert.Throws<ArgumentException>(() => optimizer.load_state_dict(foreign));
        Assert.Contains("The state dict was written for other parameters", error.Message);
        Assert.Contains("nothing was loaded", error.Message);
        OptimizerSnapshot.Of(optimizer, model).AssertEqual(before);
    }

    [Fact]
    public void A_state_dict_with_another_scaling_mode_is_refused_whole()
    {
        var twin = Fixtures.Mlp(ScalarType.BFloat16);
        using var unscaled = new MasterWeightOptimizer(twin, ps => optim.Adam(ps, 1e-2));
        var state = unscaled.state_dict();

        var model = Fixtures.Mlp(ScalarType.BFloat16);
        using var optimizer = Optimizer(model);
        Fixtures.TrainMse(model, optimizer, data.X, data.Y, 1);
        var before = OptimizerSnapshot.Of(optimizer, model);
        var error = Assert.Throws<ArgumentException>(() => optimizer.load_state_dict(state));
        Assert.Contains("Off loss scaling", error.Message);
        OptimizerSnapshot.Of(optimizer, model).AssertEqual(before);
    }

    [Fact]
    public void State_dict_between_micro_batches_is_refused()
    {
        var model = Fixtures.Mlp(ScalarType.BFloat16);
        using var optimizer = Optimizer(model);
        optimizer.Backward(nn.functional.mse_loss(model.call(data.X), data.Y));
        Assert.Throws<InvalidOperationException>(() => optimizer.state_dict());
    }
}
