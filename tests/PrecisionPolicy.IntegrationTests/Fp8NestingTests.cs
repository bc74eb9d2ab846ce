using System;
using System.IO;
using System.Linq;
using PrecisionPolicy.Fp8;
using PrecisionPolicy.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.IntegrationTests;

/// <summary>A BF16 model with two FP8 blocks inside: its own generated code wires no FP8.</summary>
[Autocast(Precision.BF16)]
public sealed partial class Bf16HostOfFp8 : Module<Tensor, Tensor>
{
    private readonly Fp8Mlp first;
    private readonly Fp8Mlp second;
    private readonly Linear head;

    public Bf16HostOfFp8(int d) : base(nameof(Bf16HostOfFp8))
    {
        first = new Fp8Mlp(d);
        second = new Fp8Mlp(d);
        head = Linear(d, d);
        RegisterComponents();
    }

    public Fp8Mlp First => first;

    public Fp8Mlp Second => second;

    public override Tensor forward(Tensor x) => head.call(second.call(first.call(x)));
}

/// <summary>
/// FP8 modules nested in a model of another precision: the optimizer over the model steps their scaling state and
/// carries it in checkpoints, found through the companion seam (only the FP8 class's generated code names FP8).
/// </summary>
public sealed class Fp8NestingTests
{
    [Fact]
    public void Nested_fp8_modules_in_a_bf16_model_get_their_scaling_history_stepped_and_checkpointed()
    {
        Assert.False(typeof(IOptimizerCompanionSource).IsAssignableFrom(typeof(Bf16HostOfFp8)));
        Assert.True(typeof(IOptimizerCompanionSource).IsAssignableFrom(typeof(Fp8Mlp)));

        using var scope = NewDisposeScope();
        manual_seed(11);
        var model = new Bf16HostOfFp8(8).ApplyPrecisionPolicy();
        using var optimizer = model.CreateMixedPrecisionOptimizer(ps => optim.AdamW(ps, 1e-2));
        var x = randn(16, 8);
        var y = (x * 0.5).tanh();
        const int steps = 5;
        for (var step = 0; step < steps; step++) model.TrainStep(optimizer, x, y, (o, t) => functional.mse_loss(o, t));

        var contexts = new[] { Fp8Context.Of(model.First), Fp8Context.Of(model.Second) };
        Assert.All(contexts, c => Assert.NotNull(c));
        Assert.Null(Fp8Context.Of(model)); // the BF16 host has no FP8 context of its own
        Assert.All(contexts, c => Assert.Equal(steps, c!.Steps));
        // Delayed scaling moved every forward scale off its initial 1 (FP8_MAX / amax of the history).
        Assert.All(contexts, c => Assert.All(c!.Sites.Where(s => s.Direction == Fp8Direction.Forward), s => Assert.NotEqual(1f, s.Scale)));

        var path = Path.Combine(Path.GetTempPath(), $"fp8-nested-{Guid.NewGuid():N}.ckpt");
        try
        {
            optimizer.Save(path);
            var saved = contexts.Select(c => c!.Sites.ToArray()).ToArray();
            model.TrainStep(optimizer, x * 3, y, (o, t) => functional.mse_loss(o, t)); // histories move on
            Assert.All(contexts, c => Assert.Equal(steps + 1, c!.Steps));
            optimizer.Load(path);
            Assert.All(contexts, c => Assert.Equal(steps, c!.Steps));
            Assert.Equal(saved, contexts.Select(c => c!.Sites.ToArray()).ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
