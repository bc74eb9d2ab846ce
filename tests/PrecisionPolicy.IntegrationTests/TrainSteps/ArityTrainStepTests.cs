using System;
using System.Linq;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.IntegrationTests.TrainSteps;

/// <summary>The generated TrainStep and AccumulateStep for modules of two and six inputs.</summary>
public sealed class ArityTrainStepTests : IDisposable
{
    private readonly DisposeScope scope = NewDisposeScope();

    public ArityTrainStepTests() => manual_seed(11);

    public void Dispose() => scope.Dispose();

    private static Tensor Mse(Tensor output, Tensor target) => nn.functional.mse_loss(output, target);

    [Fact]
    public void A_two_input_train_step_returns_the_float32_loss_of_its_forward_and_steps_the_masters()
    {
        var model = new TwoInputModel().ApplyPrecisionPolicy();
        using var optimizer = model.CreateMixedPrecisionOptimizer(ps => optim.SGD(ps, 0.1));
        var (query, memory, target) = (randn(3, 4), randn(3, 4), randn(3, 4));
        float expected;
        using (no_grad()) expected = Mse(model.call(query, memory).to(ScalarType.Float32), target).item<float>();
        var before = optimizer.MasterOf("left.weight").clone();

        var outcome = model.TrainStep(optimizer, query: query, memory: memory, target: target, lossFunction: Mse);

        Assert.True(outcome.Applied);
        Assert.Equal(expected, outcome.Loss);
        Assert.False((before == optimizer.MasterOf("left.weight")).all().item<bool>());
    }

    [Fact]
    public void A_six_input_train_step_and_accumulate_step_run_under_fp16_loss_scaling()
    {
        var model = new SixInputModel().ApplyPrecisionPolicy();
        using var optimizer = model.CreateMixedPrecisionOptimizer(ps => optim.SGD(ps, 0.1));
        var inputs = Enumerable.Range(0, 6).Select(_ => randn(2, 4)).ToArray();
        var target = randn(2, 4);

        model.AccumulateStep(optimizer, inputs[0], inputs[1], inputs[2], inputs[3], inputs[4], inputs[5], target, Mse);
        var outcome = model.TrainStep(optimizer, input1: inputs[0], input2: inputs[1], input3: inputs[2], input4: inputs[3],
            input5: inputs[4], input6: inputs[5], target: target, lossFunction: Mse);

        Assert.Equal(2, outcome.MicroBatches);
        Assert.Equal(65536.0, outcome.Scale);
        Assert.True(outcome.Loss is { } loss && double.IsFinite(loss) && loss > 0, $"loss {outcome.Loss}");
    }
}
