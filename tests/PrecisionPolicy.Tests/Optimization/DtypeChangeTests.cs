using System;
using System.IO;
using System.Linq;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Scaling;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.Tests.Optimization;

/// <summary>
/// A checkpoint loads into other working dtypes (a BF16 run resumed in FP16): masters and optimizer state
/// bit for bit, working weights made again from the masters, the scaler fresh. What cannot work stays
/// refused with the reason, and changes nothing.
/// </summary>
[Collection(PrecisionPolicy.Tests.Casting.GemmModeCollection.Name)]
public sealed class DtypeChangeTests
{
    private static readonly (Tensor X, Tensor Y) Data = Fixtures.Regression(32, 16, 4, seed: 41);

    private static void Train(nn.Module<Tensor, Tensor> model, MasterWeightOptimizer opt, int steps)
    {
        for (var i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            opt.Step(functional.mse_loss(model.call(Data.X), Data.Y));
        }
    }

    private static byte[] Checkpoint(MasterWeightOptimizer opt)
    {
        using var buffer = new MemoryStream();
        opt.Save(buffer);
        return buffer.ToArray();
    }

    private static byte[] InnerState(MasterWeightOptimizer opt)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) opt.Inner.save_state_dict(writer);
        return buffer.ToArray();
    }

    [Fact]
    public void A_bf16_checkpoint_resumes_in_fp16_with_the_masters_and_optimizer_state_bitwise_and_a_fresh_scaler()
    {
        using var bf16 = Fixtures.Mlp(ScalarType.BFloat16, seed: 42);
        using var saved = new MasterWeightOptimizer(bf16, ps => optim.AdamW(ps, 1e-2)); // BF16: no loss scaling
        Train(bf16, saved, steps: 5);
        var checkpoint = Checkpoint(saved);

        using var fp16 = Fixtures.Mlp(ScalarType.Float16, seed: 43);
        var dynamic = LossScalerOptions.Dynamic with { InitialScale = 1024 };
        using var resumed = new MasterWeightOptimizer(fp16, ps => optim.AdamW(ps, 1e-2), new MasterWeightOptions { Scaling = dynamic });
        Train(fp16, resumed, steps: 2); // its own scaler state and moments, which the load replaces

        resumed.Load(new MemoryStream(checkpoint));

        foreach (var name in saved.ParameterNames)
        {
            Assert.Equal(OptimizerSnapshot.Bytes(saved.MasterOf(name)), OptimizerSnapshot.Bytes(resumed.MasterOf(name)));
            var working = fp16.named_parameters().Single(p => p.name == name).parameter;
            Assert.Equal(ScalarType.Float16, working.dtype);
            Assert.Equal(OptimizerSnapshot.Bytes(resumed.MasterOf(name).to(ScalarType.Float16)), OptimizerSnapshot.Bytes(working));
        }
        Assert.Equal(InnerState(saved), InnerState(resumed));
        Assert.Equal(new LossScaler(dynamic).State, resumed.Scaler.State); // 1024, no steps, no skips
        Assert.Equal(0, resumed.PendingMicroBatches);

        // It trains on from there, scaled.
        Train(fp16, resumed, steps: 1);
        Assert.Equal(1, resumed.Scaler.State.TotalSteps);

        // The same checkpoint still loads into BF16 with its own scaler state (no dtype change: nothing starts fresh).
        using var again = Fixtures.Mlp(ScalarType.BFloat16, seed: 44);
        using var back = new MasterWeightOptimizer(again, ps => optim.AdamW(ps, 1e-2));
        back.Load(new MemoryStream(checkpoint));
        Assert.Equal(saved.Scaler.State, back.Scaler.State);
    }

    /// <summary>Two linear layers stored in the given dtypes (a [HighPrecision] one stays FP32).</summary>
    private sealed class TwoLayers : Module<Tensor, Tensor>
    {
        private readonly Linear first;
        private readonly Linear second;

        public TwoLayers(ScalarType firstDtype, ScalarType secondDtype) : base(nameof(TwoLayers))
        {
            manual_seed(45);
            first = Linear(16, 8);
            second = Linear(8, 4);
            RegisterComponents();
            first.to(firstDtype);
            second.to(secondDtype);
        }

        public Linear First => first;

        public override Tensor forward(Tensor x) => throw new NotSupportedException("only saved and loaded here");
    }

    private static InvalidDataException Refused(MasterWeightOptimizer target, nn.Module model, byte[] checkpoint)
    {
        var before = OptimizerSnapshot.Of(target, model);
        var error = Assert.Throws<InvalidDataException>(() => target.Load(new MemoryStream(checkpoint)));
        OptimizerSnapshot.Of(target, model).AssertEqual(before);
        Assert.Contains("Nothing was loaded", error.Message, StringComparison.OrdinalIgnoreCase);
        return error;
    }

    [Fact]
    public void A_dtype_change_that_moves_parameters_in_the_flat_buffer_stays_refused_with_the_reason()
    {
        using var savedModel = new TwoLayers(ScalarType.BFloat16, ScalarType.Float32); // flat: second (FP32), then first
        using var saved = new MasterWeightOptimizer(savedModel, ps => optim.AdamW(ps, 1e-2));
        var checkpoint = Checkpoint(saved);

        using var model = new TwoLayers(ScalarType.Float32, ScalarType.Float16);           // flat: first (FP32), then second
        using var target = new MasterWeightOptimizer(model, ps => optim.AdamW(ps, 1e-2), new MasterWeightOptions { Scaling = LossScalerOptions.Dynamic });

        var error = Refused(target, model, checkpoint);

        Assert.Contains("the working dtypes changed ('first.weight' BFloat16 -> Float32, 'first.bias' BFloat16 -> Float32, " +
                        "'second.weight' Float32 -> Float16, 'second.bias' Float32 -> Float16) in a way that moves parameters within the flat master buffer", error.Message);
        Assert.Contains("the optimizer's state is laid out over that buffer", error.Message);
    }

    [Fact]
    public void A_bf16_master_beyond_fp16_range_is_refused_naming_the_parameter()
    {
        using var savedModel = new TwoLayers(ScalarType.BFloat16, ScalarType.BFloat16);
        using (no_grad()) savedModel.First.weight![0, 0] = tensor(1e5f).to(ScalarType.BFloat16); // 99840 in BF16
        using var saved = new MasterWeightOptimizer(savedModel, ps => optim.AdamW(ps, 1e-2));
        var checkpoint = Checkpoint(saved);

        using var model = new TwoLayers(ScalarType.Float16, ScalarType.Float16);
        using var target = new MasterWeightOptimizer(model, ps => optim.AdamW(ps, 1e-2), new MasterWeightOptions { Scaling = LossScalerOptions.Dynamic });

        var error = Refused(target, model, checkpoint);

        Assert.Contains("parameter 'first.weight' has master values up to 9.984E+04 in magnitude, beyond FP16's largest value 65504", error.Message);
        Assert.DoesNotContain("'second.weight'", error.Message);
    }
}
