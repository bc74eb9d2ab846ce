using System.Linq;
using PrecisionPolicy.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Optimization;

/// <summary>The flat layout steps TorchSharp's AdamW and Adam itself, two passes per chunk, with TorchSharp's result bitwise.</summary>
public sealed class FusedAdamTests
{
    // Two full chunks and a partial one whose length is not a multiple of the vector width.
    private static readonly long[] Sizes = { 150_000, 120_000, 13 };

    public static TheoryData<string> Settings => new()
    {
        "adamw-decay", "adamw-no-decay", "adamw-maximize", "adamw-amsgrad", "adam-decay", "adam-no-decay", "adam-maximize", "adam-amsgrad",
    };

    private static OptimizerHelper Build(string setting, System.Collections.Generic.IEnumerable<Parameter> ps) => setting switch
    {
        "adamw-decay" => optim.AdamW(ps, 1e-2, beta1: 0.8, beta2: 0.99, eps: 1e-6, weight_decay: 0.1),
        "adamw-no-decay" => optim.AdamW(ps, 3e-3, weight_decay: 0),
        "adamw-maximize" => optim.AdamW(ps, 1e-2, weight_decay: 0.05, maximize: true),
        "adamw-amsgrad" => optim.AdamW(ps, 1e-2, amsgrad: true),
        "adam-decay" => optim.Adam(ps, 1e-2, beta1: 0.8, beta2: 0.99, eps: 1e-6, weight_decay: 0.1),
        "adam-no-decay" => optim.Adam(ps, 3e-3),
        "adam-maximize" => optim.Adam(ps, 1e-2, weight_decay: 0.05, maximize: true),
        "adam-amsgrad" => optim.Adam(ps, 1e-2, amsgrad: true),
        _ => throw new System.ArgumentOutOfRangeException(nameof(setting)),
    };

    // The step count and moments of each parameter's state, whichever of the two optimizers holds it.
    private static (long Step, Tensor ExpAvg, Tensor ExpAvgSq) Moments(OptimizerState state) => state switch
    {
        AdamW.State s => (s.step, s.exp_avg, s.exp_avg_sq),
        Adam.State s => (s.step, s.exp_avg, s.exp_avg_sq),
        _ => throw new System.ArgumentOutOfRangeException(nameof(state)),
    };

    [Theory]
    [MemberData(nameof(Settings))]
    public void Flat_steps_give_the_weights_and_moments_of_torchsharp_stepping_one_parameter_bitwise(string setting)
    {
        // A generator of its own: the global one is left to the tests that seed it.
        var generator = new Generator(13);
        var initial = Sizes.Select(n => randn(new[] { n }, generator: generator)).ToArray();
        var parameters = initial.Select(t => new Parameter(t.clone(), requires_grad: true)).ToArray();
        using var flat = new MasterWeightOptimizer(parameters.Select((p, i) => ($"p{i}", p)), ps => Build(setting, ps));
        var reference = new Parameter(cat(initial, 0), requires_grad: true);
        using var torchSharp = Build(setting, new[] { reference });
        // The learning rate halves every step: the fused step reads it from the parameter group each time.
        flat.AttachScheduler(optim.lr_scheduler.StepLR(flat.Inner, step_size: 1, gamma: 0.5));
        var torchSharpSchedule = optim.lr_scheduler.StepLR(torchSharp, step_size: 1, gamma: 0.5);

        for (var step = 0; step < 4; step++)
        {
            using var scope = NewDisposeScope();
            // Gradients of growing and shrinking size, some tiny: d(sum p_i * w_i)/dp_i = w_i exactly.
            var weights = Sizes.Select(n => randn(new[] { n }, generator: generator) * System.Math.Pow(10, step % 2 == 0 ? -5 : 1)).ToArray();
            flat.Step(parameters.Zip(weights, (p, w) => (p * w).sum()).Aggregate((a, b) => a + b));
            reference.grad = cat(weights, 0);
            torchSharp.step();
            torchSharpSchedule.step();
        }

        var masters = cat(Enumerable.Range(0, Sizes.Length).Select(i => flat.MasterOf($"p{i}").flatten()).ToArray(), 0);
        Assert.Equal(reference.detach().data<float>().ToArray(), masters.data<float>().ToArray());
        var expected = Moments(torchSharp.state_dict().State[0]);
        var states = flat.Inner.state_dict().State.Select(Moments).ToArray();
        Assert.Equal(4, expected.Step);
        Assert.All(states, s => Assert.Equal(expected.Step, s.Step));
        Assert.Equal(expected.ExpAvg.data<float>().ToArray(), cat(states.Select(s => s.ExpAvg).ToArray(), 0).data<float>().ToArray());
        Assert.Equal(expected.ExpAvgSq.data<float>().ToArray(), cat(states.Select(s => s.ExpAvgSq).ToArray(), 0).data<float>().ToArray());
        // AMSGrad is left to TorchSharp's own step; every other setting runs fused on every chunk.
        Assert.Equal(setting.EndsWith("amsgrad", System.StringComparison.Ordinal) ? 0 : 4 * Sizes.Length, flat.FusedChunkSteps);
    }

    [Fact]
    public void Per_tensor_layout_and_other_optimizers_are_not_fused()
    {
        var parameter = new Parameter(ones(100), requires_grad: true);
        var other = new Parameter(ones(100), requires_grad: true);
        using var perTensor = new MasterWeightOptimizer(new[] { ("p", parameter) }, ps => optim.AdamW(ps), new MasterWeightOptions { Layout = MasterLayout.PerTensor });
        using var adamax = new MasterWeightOptimizer(new[] { ("q", other) }, ps => optim.Adamax(ps));

        using (var scope = NewDisposeScope())
        {
            perTensor.Step(parameter.sum());
            adamax.Step(other.sum());
        }

        Assert.Equal(0, perTensor.FusedChunkSteps);
        Assert.Equal(0, adamax.FusedChunkSteps);
    }
}
