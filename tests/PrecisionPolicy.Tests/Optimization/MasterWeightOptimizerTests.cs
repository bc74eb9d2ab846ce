using System;
using System.IO;
using System.Linq;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Scaling;
using TorchSharp.Modules;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.Tests.Optimization;

[Collection(PrecisionPolicy.Tests.Casting.GemmModeCollection.Name)]
public sealed class MasterWeightOptimizerTests
{
    private static float[] Values(Tensor t) => t.detach().cpu().to(ScalarType.Float32).data<float>().ToArray();

    private static double Train(ScalarType compute, LossScalerOptions scaling, int steps)
    {
        var (x, y) = Fixtures.Regression(256, 16, 4, seed: 1);
        using var model = Fixtures.Mlp(compute);
        using var opt = new MasterWeightOptimizer(model, ps => optim.Adam(ps, 1e-2), new MasterWeightOptions { Scaling = scaling });
        return Fixtures.TrainMse(model, opt, x, y, steps);
    }

    [Fact]
    public void Bf16_storage_and_fp16_with_scaling_reach_the_fp32_final_loss_within_2_percent()
    {
        var fp32 = Train(ScalarType.Float32, LossScalerOptions.Off, 150);
        var bf16 = Train(ScalarType.BFloat16, LossScalerOptions.Off, 150);
        var fp16 = Train(ScalarType.Float16, LossScalerOptions.Dynamic, 150);
        Assert.InRange(bf16, 0, fp32 * 1.02);
        Assert.InRange(fp16, 0, fp32 * 1.02);
    }

    [Fact]
    public void Fp16_gradients_of_1e_8_underflow_without_scaling_and_are_recovered_with_dynamic_scaling()
    {
        // FP16's smallest subnormal is 2^-24 ≈ 6e-8: a gradient of 1e-8 rounds to 0 unless scaled.
        static float[] GradsWith(LossScalerOptions scaling)
        {
            manual_seed(3);
            using var layer = nn.Linear(8, 1, hasBias: false);
            layer.to(ScalarType.Float16);
            using var opt = new MasterWeightOptimizer(layer, ps => optim.SGD(ps, 0.0), new MasterWeightOptions { Scaling = scaling });
            var input = full(new long[] { 1, 8 }, 1e-4f).to(ScalarType.Float16);
            var loss = (layer.call(input).to(ScalarType.Float32).sum()) * 1e-4f; // d loss / d w = 1e-8
            opt.Backward(loss);
            return Values(opt.GradientOf("weight")); // Backward divides the scale out
        }

        var unscaled = GradsWith(LossScalerOptions.Off);
        Assert.All(unscaled, g => Assert.Equal(0f, g));

        var scaled = GradsWith(LossScalerOptions.Dynamic);
        Assert.All(scaled, g => Assert.InRange(g, 0.99e-8f, 1.01e-8f));
    }

    [Fact]
    public void Skipped_step_leaves_every_master_and_optimizer_state_tensor_bitwise_unchanged()
    {
        var (x, y) = Fixtures.Regression(32, 16, 4, seed: 2);
        using var model = Fixtures.Mlp(ScalarType.Float16);
        using var opt = new MasterWeightOptimizer(model, ps => optim.Adam(ps, 1e-2), new MasterWeightOptions { Scaling = LossScalerOptions.Dynamic });
        for (var i = 0; i < 3; i++) opt.Step(functional.mse_loss(model.call(x), y));

        var mastersBefore = opt.ParameterNames.Select(n => Values(opt.MasterOf(n))).ToArray();
        var stateBefore = StateTensors(opt).Select(Values).ToArray();
        var workingBefore = model.parameters().Select(Values).ToArray();
        var scale = opt.Scaler.Scale;

        var outcome = opt.Step(functional.mse_loss(model.call(x), y) * float.PositiveInfinity);

        Assert.False(outcome.Applied);
        Assert.Equal(scale / 2, opt.Scaler.Scale);
        Assert.Equal(mastersBefore, opt.ParameterNames.Select(n => Values(opt.MasterOf(n))).ToArray());
        Assert.Equal(stateBefore, StateTensors(opt).Select(Values).ToArray());
        Assert.Equal(workingBefore, model.parameters().Select(Values).ToArray());
        Assert.NotEmpty(stateBefore);
    }

    private static Tensor[] StateTensors(MasterWeightOptimizer opt)
    {
        var state = opt.Inner.state_dict().State.Cast<Adam.State>().ToArray();
        return state.SelectMany(s => new[] { s.exp_avg, s.exp_avg_sq }).ToArray();
    }

    [Fact]
    public void Four_accumulated_micro_batches_equal_one_4x_batch()
    {
        var (x, y) = Fixtures.Regression(64, 16, 4, seed: 4);
        using var whole = Fixtures.Mlp(ScalarType.Float32);
        using var split = Fixtures.Mlp(ScalarType.Float32);
        using var wholeOpt = new MasterWeightOptimizer(whole, ps => optim.SGD(ps, 0.1));
        using var splitOpt = new MasterWeightOptimizer(split, ps => optim.SGD(ps, 0.1));

        var wholeOutcome = wholeOpt.Step(functional.mse_loss(whole.call(x), y));
        for (var i = 0; i < 4; i++)
        {
            var xi = x.narrow(0, i * 16, 16);
            var yi = y.narrow(0, i * 16, 16);
            splitOpt.Backward(functional.mse_loss(split.call(xi), yi) / 4);
        }
        var splitOutcome = splitOpt.Step();

        Assert.Equal(4, splitOutcome.MicroBatches);
        Assert.Equal(wholeOutcome.GradNorm, splitOutcome.GradNorm, 1e-5);
        foreach (var name in wholeOpt.ParameterNames)
        {
            var a = Values(wholeOpt.MasterOf(name));
            var b = Values(splitOpt.MasterOf(name));
            for (var i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i], 1e-6f);
        }
    }

    [Fact]
    public void Clipping_sees_the_unscaled_norm()
    {
        // One linear weight with gradient [3, 4] (norm 5) under scale 2^10, clipped to norm 1:
        // SGD with lr 1 must move the weight by exactly -[0.6, 0.8].
        using var layer = nn.Linear(2, 1, hasBias: false);
        using (no_grad()) layer.weight!.copy_(zeros(1, 2));
        layer.to(ScalarType.Float16);
        using var opt = new MasterWeightOptimizer(layer, ps => optim.SGD(ps, 1.0),
            new MasterWeightOptions { Scaling = LossScalerOptions.Dynamic with { InitialScale = 1024 }, MaxGradNorm = 1.0 });

        var outcome = opt.Step(layer.call(tensor(new float[,] { { 3, 4 } }).to(ScalarType.Float16)).to(ScalarType.Float32).sum());

        Assert.True(outcome.Applied);
        Assert.Equal(1024.0, outcome.Scale);
        Assert.Equal(5.0, outcome.GradNorm, 1e-6);
        var w = Values(opt.MasterOf("weight"));
        Assert.Equal(-0.6f, w[0], 1e-5f);
        Assert.Equal(-0.8f, w[1], 1e-5f);
    }

    [Fact]
    public void Save_load_continue_gives_a_bitwise_identical_trajectory()
    {
        var (x, y) = Fixtures.Regression(64, 16, 4, seed: 5);
        var options = new MasterWeightOptions { Scaling = LossScalerOptions.Dynamic with { GrowthInterval = 3 } };
        var path = Path.Combine(Path.GetTempPath(), $"pp-{Guid.NewGuid():N}.ckpt");

        using var straight = Fixtures.Mlp(ScalarType.Float16);
        using var straightOpt = new MasterWeightOptimizer(straight, ps => optim.AdamW(ps, 1e-2), options);
        var straightLosses = Enumerable.Range(0, 8).Select(_ => Step(straight, straightOpt)).ToArray();

        using var first = Fixtures.Mlp(ScalarType.Float16);
        using var firstOpt = new MasterWeightOptimizer(first, ps => optim.AdamW(ps, 1e-2), options);
        var before = Enumerable.Range(0, 4).Select(_ => Step(first, firstOpt)).ToArray();
        firstOpt.Save(path);

        using var resumed = Fixtures.Mlp(ScalarType.Float16, seed: 99); // different init: everything must come from the checkpoint
        using var resumedOpt = new MasterWeightOptimizer(resumed, ps => optim.AdamW(ps, 1e-2), options);
        resumedOpt.Load(path);
        File.Delete(path);
        var after = Enumerable.Range(0, 4).Select(_ => Step(resumed, resumedOpt)).ToArray();

        Assert.Equal(straightLosses, before.Concat(after).ToArray());
        Assert.Equal(straightOpt.Scaler.State, resumedOpt.Scaler.State);
        Assert.Equal(straight.parameters().Select(Values).ToArray(), resumed.parameters().Select(Values).ToArray());

        float Step(TinyMlp model, MasterWeightOptimizer opt)
        {
            using var scope = NewDisposeScope();
            var loss = functional.mse_loss(model.call(x), y);
            opt.Step(loss);
            return loss.item<float>();
        }
    }

    [Fact]
    public void Loading_a_checkpoint_of_other_parameters_is_refused_and_changes_nothing()
    {
        var path = Path.Combine(Path.GetTempPath(), $"pp-{Guid.NewGuid():N}.ckpt");
        using var small = Fixtures.Mlp(ScalarType.Float32, hidden: 8);
        using (var smallOpt = new MasterWeightOptimizer(small, ps => optim.SGD(ps, 0.1))) smallOpt.Save(path);

        using var big = Fixtures.Mlp(ScalarType.Float32, hidden: 32);
        using var bigOpt = new MasterWeightOptimizer(big, ps => optim.SGD(ps, 0.1));
        var before = big.parameters().Select(Values).ToArray();
        var error = Assert.Throws<InvalidDataException>(() => bigOpt.Load(path));
        File.Delete(path);
        Assert.Contains("fc1.weight", error.Message);
        Assert.Equal(before, big.parameters().Select(Values).ToArray());
    }

    [Fact]
    public void Scheduler_steps_only_on_applied_steps()
    {
        var (x, y) = Fixtures.Regression(16, 16, 4, seed: 6);
        using var model = Fixtures.Mlp(ScalarType.Float32);
        using var opt = new MasterWeightOptimizer(model, ps => optim.SGD(ps, 1.0), new MasterWeightOptions { Scaling = LossScalerOptions.Dynamic });
        var scheduler = optim.lr_scheduler.StepLR(opt.Inner, step_size: 1, gamma: 0.5);
        opt.AttachScheduler(scheduler);

        opt.Step(functional.mse_loss(model.call(x), y));
        opt.Step(functional.mse_loss(model.call(x), y) * float.NaN);
        opt.Step(functional.mse_loss(model.call(x), y));

        Assert.Equal(0.25, opt.Inner.ParamGroups.First().LearningRate, 12);
    }

    [Fact]
    public void Optimizer_over_no_parameters_is_a_clear_error()
    {
        using var empty = nn.Sequential();
        var error = Assert.Throws<ArgumentException>(() => new MasterWeightOptimizer(empty, ps => optim.SGD(ps, 0.1)));
        Assert.Contains("No trainable parameters", error.Message);
    }

    [Fact]
    public void Non_finite_loss_every_step_ends_in_an_error_after_64_skips_in_a_row_not_endless_skipping()
    {
        var (x, y) = Fixtures.Regression(16, 16, 4, seed: 8);
        using var model = Fixtures.Mlp(ScalarType.Float16);
        using var opt = new MasterWeightOptimizer(model, ps => optim.SGD(ps, 0.1), new MasterWeightOptions { Scaling = LossScalerOptions.Dynamic });
        var mastersBefore = opt.ParameterNames.Select(n => Values(opt.MasterOf(n))).ToArray();

        var skipped = 0;
        var error = Assert.Throws<LossScaleException>(() =>
        {
            for (var i = 0; i < 100; i++)
            {
                var outcome = opt.Step(functional.mse_loss(model.call(x), y) * float.NaN);
                Assert.False(outcome.Applied);
                Assert.NotNull(outcome.FirstNonFiniteParameter);
                skipped++;
            }
        });
        // The 64th non-finite step in a row is the error (after it was skipped and recorded); 2^16 has halved 64 times.
        Assert.Equal(63, skipped);
        Assert.Equal(Math.Pow(2, 16 - 64), opt.Scaler.Scale);
        Assert.Contains("64 steps in a row", error.Message);
        Assert.Contains("first non-finite tensor: 'fc1.weight'", error.Message);
        Assert.Equal(mastersBefore, opt.ParameterNames.Select(n => Values(opt.MasterOf(n))).ToArray());
        Assert.Equal(0, opt.PendingMicroBatches);
    }

    [Fact]
    public void Parameters_on_different_devices_are_a_clear_error()
    {
        using var a = nn.Linear(2, 2);
        using var b = nn.Linear(2, 2);
        b.to(new Device(DeviceType.META));
        var named = a.named_parameters().Select(p => ("a." + p.name, p.parameter))
            .Concat(b.named_parameters().Select(p => ("b." + p.name, p.parameter)));
        var error = Assert.Throws<ArgumentException>(() => new MasterWeightOptimizer(named, ps => optim.SGD(ps, 0.1)));
        Assert.Contains("several devices", error.Message);
        Assert.Contains("meta", error.Message);
    }

    [Fact]
    public void Step_without_backward_and_non_scalar_loss_are_clear_errors()
    {
        using var layer = nn.Linear(2, 2);
        using var opt = new MasterWeightOptimizer(layer, ps => optim.SGD(ps, 0.1));
        Assert.Contains("Backward(loss)", Assert.Throws<InvalidOperationException>(() => opt.Step()).Message);
        Assert.Contains("scalar", Assert.Throws<ArgumentException>(() => opt.Backward(layer.call(ones(3, 2)))).Message);
    }

    [Fact]
    public void Working_parameters_follow_the_masters_after_each_applied_step()
    {
        var (x, y) = Fixtures.Regression(32, 16, 4, seed: 9);
        using var model = Fixtures.Mlp(ScalarType.BFloat16);
        using var opt = new MasterWeightOptimizer(model, ps => optim.Adam(ps, 1e-2));
        opt.Step(functional.mse_loss(model.call(x), y));
        foreach (var (name, p) in model.named_parameters())
        {
            Assert.Equal(ScalarType.BFloat16, p.dtype);
            Assert.Equal(Values(opt.MasterOf(name).to(ScalarType.BFloat16)), Values(p));
        }
    }
}

[Collection(PrecisionPolicy.Tests.Casting.GemmModeCollection.Name)]
public sealed class GradientStatisticsTests
{
    [Fact]
    public void Zero_fraction_shows_fp16_underflow_that_scaling_prevents()
    {
        static GradientStatistics? Stats(LossScalerOptions scaling)
        {
            using var layer = nn.Linear(4, 1, hasBias: false);
            using (no_grad()) layer.weight!.copy_(ones(1, 4));
            layer.to(ScalarType.Float16);
            using var opt = new MasterWeightOptimizer(layer, ps => optim.SGD(ps, 0.0),
                new MasterWeightOptions { Scaling = scaling, TrackGradientStatistics = true });
            // d loss / d w = input * 1e-4: 1e-8 for the first two weights, which flushes to zero in
            // FP16 without scaling; 1e-4 for the other two.
            var input = tensor(new float[,] { { 1e-4f, 1e-4f, 1f, 1f } }).to(ScalarType.Float16);
            return opt.Step(layer.call(input).to(ScalarType.Float32).sum() * 1e-4f).Gradients;
        }

        Assert.Equal(0.5, Stats(LossScalerOptions.Off)!.ZeroFraction);
        var scaled = Stats(LossScalerOptions.Dynamic)!;
        Assert.Equal(0.0, scaled.ZeroFraction);
        Assert.InRange(scaled.MaxAbs, 0.999e-4, 1.001e-4);
    }
}

[Collection(PrecisionPolicy.Tests.Casting.GemmModeCollection.Name)]
public sealed class MasterWeightMemoryTests
{
    [Fact]
    public void Memory_reports_fp32_masters_accumulators_and_adam_state_and_16_bit_working_gradients()
    {
        using var layer = nn.Linear(100, 10); // 1010 parameters
        layer.to(ScalarType.BFloat16);
        using var opt = new MasterWeightOptimizer(layer, ps => optim.AdamW(ps, 1e-3));
        opt.Step(layer.call(ones(2, 100).to(ScalarType.BFloat16)).to(ScalarType.Float32).sum());

        Assert.Equal(new MasterWeightMemory(4040, 4040, 2020, 8080), opt.Memory());
    }
}

[Collection(PrecisionPolicy.Tests.Casting.GemmModeCollection.Name)]
public sealed class CompanionTests
{
    /// <summary>A companion holding one number, named like every instance of its module class.</summary>
    private sealed class Counter(string name) : IOptimizerCompanion
    {
        public int Value;
        public int Steps;
        public string Name => name;
        public void OnStepEnd(StepOutcome outcome) => Steps++;
        public void Save(BinaryWriter writer) => writer.Write(Value);
        public Action Stage(BinaryReader reader)
        {
            var value = reader.ReadInt32();
            return () => Value = value;
        }
    }

    [Fact]
    public void Companions_sharing_a_name_are_stepped_and_checkpointed_each_on_its_own()
    {
        var path = Path.Combine(Path.GetTempPath(), $"pp-{Guid.NewGuid():N}.ckpt");
        using var layer = nn.Linear(2, 1);
        using var opt = new MasterWeightOptimizer(layer, ps => optim.SGD(ps, 0.1));
        var first = new Counter("fp8:Block") { Value = 1 };
        var second = new Counter("fp8:Block") { Value = 2 };
        opt.AddCompanion(first);
        opt.AddCompanion(second);
        opt.AddCompanion(first); // the same companion twice changes nothing

        opt.Step(layer.call(ones(1, 2)).sum());
        opt.Save(path);
        (first.Value, second.Value) = (0, 0);
        opt.Load(path);
        File.Delete(path);

        Assert.Equal((1, 2), (first.Value, second.Value));
        Assert.Equal((1, 1), (first.Steps, second.Steps));
    }
}
