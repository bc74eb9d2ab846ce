using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using PrecisionPolicy.Casting;
using PrecisionPolicy.CompilerServices;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Scaling;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.Tests.Optimization;

/// <summary>Misuse is a clear error in the toolkit's words, and never loses or half-changes state.</summary>
[Collection(PrecisionPolicy.Tests.Casting.GemmModeCollection.Name)]
public sealed class MisuseTests
{
    private static readonly (Tensor X, Tensor Y) Data = Fixtures.Regression(32, 16, 4, seed: 21);

    private static Tensor Loss(nn.Module<Tensor, Tensor> model) => functional.mse_loss(model.call(Data.X), Data.Y);

    /// <summary>Blocks the optimizer's step at its end until released, so another call provably overlaps it.</summary>
    private sealed class Gate : IOptimizerCompanion
    {
        public readonly ManualResetEventSlim Entered = new();
        public readonly ManualResetEventSlim Release = new();
        public Action? Inside;
        public string Name => "gate";
        public void OnStepEnd(StepOutcome outcome)
        {
            Inside?.Invoke();
            Entered.Set();
            Release.Wait(TimeSpan.FromSeconds(30));
        }
        public void Save(BinaryWriter writer) { }
        public Action Stage(BinaryReader reader) => () => { };
    }

    [Fact]
    public void Backward_on_another_thread_during_a_step_is_an_error_naming_the_fix_and_loses_no_count()
    {
        using var model = Fixtures.Mlp(ScalarType.Float32);
        using var opt = new MasterWeightOptimizer(model, ps => optim.SGD(ps, 0.1), new MasterWeightOptions { Scaling = LossScalerOptions.Dynamic });
        var gate = new Gate();
        opt.AddCompanion(gate);
        var loss = Loss(model);
        var other = Loss(model);

        StepOutcome? outcome = null;
        var stepping = new Thread(() => outcome = opt.Step(loss));
        stepping.Start();
        Assert.True(gate.Entered.Wait(TimeSpan.FromSeconds(30)));
        var error = Assert.Throws<InvalidOperationException>(() => opt.Backward(other));
        gate.Release.Set();
        stepping.Join();

        Assert.Contains("Backward() was called while Step() is running on this MasterWeightOptimizer on another thread", error.Message);
        Assert.Contains("drive it from one training thread", error.Message);
        Assert.True(outcome!.Applied);
        Assert.Equal(1, opt.Scaler.State.TotalSteps);
        Assert.Equal(0, opt.PendingMicroBatches); // the refused Backward accumulated nothing
        Assert.True(opt.Step(Loss(model)).Applied);  // and the optimizer is usable afterwards
    }

    [Fact]
    public void A_companion_calling_back_into_the_optimizer_is_an_error()
    {
        using var model = Fixtures.Mlp(ScalarType.Float32);
        using var opt = new MasterWeightOptimizer(model, ps => optim.SGD(ps, 0.1));
        Exception? inner = null;
        var gate = new Gate { Inside = () => inner = Record.Exception(() => opt.ZeroGrad()) };
        gate.Release.Set();
        opt.AddCompanion(gate);
        opt.Step(Loss(model));
        Assert.IsType<InvalidOperationException>(inner);
        Assert.Contains("ZeroGrad() was called from inside Step()", inner!.Message);
    }

    [Fact]
    public void Two_threads_hammering_one_optimizer_get_outcomes_or_errors_and_no_scaler_count_is_lost()
    {
        using var model = Fixtures.Mlp(ScalarType.Float32);
        using var opt = new MasterWeightOptimizer(model, ps => optim.SGD(ps, 0.01), new MasterWeightOptions { Scaling = LossScalerOptions.Dynamic });
        var returned = 0;
        var errors = new System.Collections.Concurrent.ConcurrentBag<string>();
        void Loop()
        {
            for (var i = 0; i < 40; i++)
            {
                using var scope = NewDisposeScope();
                try
                {
                    opt.Step(Loss(model));
                    Interlocked.Increment(ref returned);
                }
                catch (InvalidOperationException e)
                {
                    errors.Add(e.Message);
                }
            }
        }
        var threads = new[] { new Thread(Loop), new Thread(Loop) };
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.Equal(80, returned + errors.Count);
        Assert.Equal(returned, opt.Scaler.State.TotalSteps);
        // Either refused by the guard, or a backward whose graph the other thread's step modified in place: autograd
        // reports that as a modified or as an already-freed graph, and both come back in the toolkit's words.
        Assert.All(errors, m => Assert.True(m.Contains("drive it from one training thread") || m.StartsWith("Backward(loss) ", StringComparison.Ordinal), m));
    }

    [Fact]
    public void Reapplying_a_policy_under_another_precision_over_held_parameters_is_refused_and_changes_nothing()
    {
        using var model = Fixtures.Mlp(ScalarType.BFloat16); // casts for BF16 in its forward, as generated code would
        var plan = new PrecisionPlan("TinyMlp", Precision.BF16, Array.Empty<string>());
        ModulePolicy.Apply(model, plan);
        using var opt = new MasterWeightOptimizer(model, ps => optim.Adam(ps, 1e-2));
        opt.Step(Loss(model));

        ModulePolicy.Apply(model, plan); // the same precision again converts nothing: allowed
        var before = OptimizerSnapshot.Of(opt, model);
        InvalidOperationException error;
        using (AutocastScope.Use(Precision.FP16))
            error = Assert.Throws<InvalidOperationException>(() => ModulePolicy.Apply(model, plan));

        Assert.Contains("ApplyPrecisionPolicy() on 'TinyMlp' under FP16 would convert parameters applied under BF16", error.Message);
        Assert.Contains("before creating the optimizer", error.Message);
        OptimizerSnapshot.Of(opt, model).AssertEqual(before);
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
        Assert.True(opt.Step(Loss(model)).Applied); // before the guard: "Tensor invalid -- empty handle" from here on
    }

    [Fact]
    public void Applying_a_policy_for_the_first_time_after_the_optimizer_exists_is_refused_until_it_is_disposed()
    {
        using var model = Fixtures.Mlp(ScalarType.Float32);
        var plan = new PrecisionPlan("TinyMlp", Precision.BF16, Array.Empty<string>());
        var opt = new MasterWeightOptimizer(model, ps => optim.SGD(ps, 0.1));
        var error = Assert.Throws<InvalidOperationException>(() => ModulePolicy.Apply(model, plan));
        Assert.Contains("is applied after a MasterWeightOptimizer was created over its parameters (e.g. 'fc1.weight', Float32)", error.Message);
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));

        opt.Dispose();
        ModulePolicy.Apply(model, plan);
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
    }

    [Fact]
    public void A_second_optimizer_over_the_same_parameters_is_refused()
    {
        using var model = Fixtures.Mlp(ScalarType.Float32);
        using var first = new MasterWeightOptimizer(model, ps => optim.SGD(ps, 0.1));
        var error = Assert.Throws<ArgumentException>(() => new MasterWeightOptimizer(model, ps => optim.SGD(ps, 0.1)));
        Assert.Contains("Parameter 'fc1.weight' is already held by another MasterWeightOptimizer", error.Message);
        Assert.True(first.Step(Loss(model)).Applied);
    }

    [Fact]
    public void Backward_twice_through_one_graph_says_so_and_drops_the_steps_gradients()
    {
        using var model = Fixtures.Mlp(ScalarType.BFloat16);
        using var opt = new MasterWeightOptimizer(model, ps => optim.SGD(ps, 0.1));
        var mastersBefore = OptimizerSnapshot.Of(opt, model).Masters;
        var loss = Loss(model);
        opt.Backward(loss);

        var error = Assert.Throws<InvalidOperationException>(() => opt.Backward(loss));

        Assert.Contains("whose graph was already backpropagated", error.Message);
        Assert.Contains("new forward pass", error.Message);
        Assert.IsAssignableFrom<ExternalException>(error.InnerException);
        Assert.Equal(0, opt.PendingMicroBatches);
        Assert.All(opt.ParameterNames, n => Assert.Equal(0, opt.GradientOf(n).count_nonzero().item<long>()));
        Assert.Equal(mastersBefore, OptimizerSnapshot.Of(opt, model).Masters);
        Assert.True(opt.Step(Loss(model)).Applied);
    }

    [Fact]
    public void Every_call_on_a_disposed_optimizer_says_it_was_disposed()
    {
        using var model = Fixtures.Mlp(ScalarType.Float32);
        var opt = new MasterWeightOptimizer(model, ps => optim.SGD(ps, 0.1));
        opt.Dispose();
        opt.Dispose(); // twice is harmless
        var loss = Loss(model);
        var calls = new Action[]
        {
            () => opt.Backward(loss), () => opt.Step(loss), () => opt.Step(), () => opt.ZeroGrad(),
            () => opt.Save(new MemoryStream()), () => opt.Load(new MemoryStream()), () => opt.Memory(), () => opt.MasterOf("fc1.weight"),
        };
        foreach (var call in calls)
        {
            var error = Assert.Throws<ObjectDisposedException>(call);
            Assert.Contains("This MasterWeightOptimizer was disposed", error.Message);
        }
    }

    [Fact]
    public void Fp16_without_loss_scaling_warns_once_with_the_zero_fraction_and_scaled_or_bf16_runs_do_not()
    {
        static string[] Warnings(ScalarType dtype, LossScalerOptions scaling)
        {
            using var layer = nn.Linear(4, 1, hasBias: false);
            using (no_grad()) layer.weight!.copy_(ones(1, 4));
            layer.to(dtype);
            using var opt = new MasterWeightOptimizer(layer, ps => optim.SGD(ps, 0.0), new MasterWeightOptions { Scaling = scaling });
            var warnings = new System.Collections.Generic.List<string>();
            opt.Warning += (_, message) => warnings.Add(message);
            // d loss / d w = input * 1e-4: 1e-8 for two of the four weights, which flushes to zero in FP16 unscaled.
            var input = tensor(new float[,] { { 1e-4f, 1e-4f, 1f, 1f } }).to(dtype);
            for (var i = 0; i < 3; i++) opt.Step(layer.call(input).to(ScalarType.Float32).sum() * 1e-4f);
            return warnings.ToArray();
        }

        var fp16 = Warnings(ScalarType.Float16, LossScalerOptions.Off);
        Assert.Single(fp16);
        Assert.Contains("4 FP16 parameter elements train without loss scaling; 50.0% of the first backward's FP16 gradient elements are exactly zero", fp16[0]);
        Assert.Contains("LossScalerOptions.Dynamic", fp16[0]);
        Assert.Empty(Warnings(ScalarType.Float16, LossScalerOptions.Dynamic));
        Assert.Empty(Warnings(ScalarType.BFloat16, LossScalerOptions.Off));
    }
}
