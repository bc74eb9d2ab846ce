using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Optimization;

/// <summary>The flat layout steps TorchSharp's AdamW itself, two passes per chunk, with TorchSharp's result bitwise.</summary>
public sealed class FusedAdamWTests
{
    // Two full chunks and a partial one whose length is not a multiple of the vector width.
    private static readonly long[] Sizes = { 150_000, 120_000, 13 };

    public static TheoryData<string> Settings => new() { "decay", "no-decay", "maximize", "amsgrad" };

    private static AdamW Build(string setting, System.Collections.Generic.IEnumerable<Parameter> ps) => setting switch
    {
        "decay" => optim.AdamW(ps, 1e-2, beta1: 0.8, beta2: 0.99, eps: 1e-6, weight_decay: 0.1),
        "no-decay" => optim.AdamW(ps, 3e-3, weight_decay: 0),
        "maximize" => optim.AdamW(ps, 1e-2, weight_decay: 0.05, maximize: true),
        "amsgrad" => optim.AdamW(ps, 1e-2, amsgrad: true),
        _ => throw new System.ArgumentOutOfRangeException(nameof(setting)),
    };

    [Theory]
    [MemberData(nameof(Settings))]
    public void Flat_adamw_steps_give_torchsharp_adamw_weights_and_moments_bitwise(string setting)
    {
        manual_seed(13);
        var initial = Sizes.Select(n => randn(n)).ToArray();
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
            var weights = Sizes.Select(n => randn(n) * System.Math.Pow(10, step % 2 == 0 ? -5 : 1)).ToArray();
            flat.Step(parameters.Zip(weights, (p, w) => (p * w).sum()).Aggregate((a, b) => a + b));
            reference.grad = cat(weights, 0);
            torchSharp.step();
            torchSharpSchedule.step();
        }

        var masters = cat(Enumerable.Range(0, Sizes.Length).Select(i => flat.MasterOf($"p{i}").flatten()).ToArray(), 0);
        Assert.Equal(reference.detach().data<float>().ToArray(), masters.data<float>().ToArray());
        var expected = (AdamW.State)torchSharp.state_dict().State[0];
        var states = flat.Inner.state_dict().State.Cast<AdamW.State>().ToArray();
        Assert.All(states, s => Assert.Equal(expected.step, s.step));
        Assert.Equal(expected.exp_avg.data<float>().ToArray(), cat(states.Select(s => s.exp_avg).ToArray(), 0).data<float>().ToArray());
        Assert.Equal(expected.exp_avg_sq.data<float>().ToArray(), cat(states.Select(s => s.exp_avg_sq).ToArray(), 0).data<float>().ToArray());
        // AMSGrad is left to TorchSharp's own step; every other setting runs fused on every chunk.
        Assert.Equal(setting == "amsgrad" ? 0 : 4 * Sizes.Length, flat.FusedChunkSteps);
    }

    [Fact]
    public void Per_tensor_layout_and_other_optimizers_are_not_fused()
    {
        var parameter = new Parameter(randn(100), requires_grad: true);
        var other = new Parameter(randn(100), requires_grad: true);
        using var perTensor = new MasterWeightOptimizer(new[] { ("p", parameter) }, ps => optim.AdamW(ps), new MasterWeightOptions { Layout = MasterLayout.PerTensor });
        using var adam = new MasterWeightOptimizer(new[] { ("q", other) }, ps => optim.Adam(ps));

        using (var scope = NewDisposeScope())
        {
            perTensor.Step(parameter.sum());
            adam.Step(other.sum());
        }

        Assert.Equal(0, perTensor.FusedChunkSteps);
        Assert.Equal(0, adam.FusedChunkSteps);
    }
}
