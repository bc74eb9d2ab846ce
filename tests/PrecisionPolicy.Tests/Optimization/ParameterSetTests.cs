using System.IO;
using System.Linq;
using System;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Scaling;
using TorchSharp.Modules;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.Tests.Optimization;

/// <summary>
/// Parameters that change after the optimizer was built (a child replaced, a parameter registered or
/// frozen) are a clear error at the next Step, Save or Load, naming the change, with nothing changed.
/// </summary>
[Collection(PrecisionPolicy.Tests.Casting.GemmModeCollection.Name)]
public sealed class ParameterSetTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("pp-params-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>Two linear layers; the second can be replaced as a user replaces a child module.</summary>
    private sealed class Swappable : Module<Tensor, Tensor>
    {
        private readonly Linear fc1;
        private Linear fc2;

        public Swappable() : base(nameof(Swappable))
        {
            fc1 = Linear(4, 8);
            fc2 = Linear(8, 2);
            RegisterComponents();
        }

        public Linear First => fc1;

        public void ReplaceSecond(Linear replacement)
        {
            register_module(nameof(fc2), null!); // TorchSharp's way to drop a registered child
            fc2 = replacement;
            register_module(nameof(fc2), replacement);
        }

        public override Tensor forward(Tensor x) => fc2.call(functional.relu(fc1.call(x)));
    }

    private static Tensor Loss(Swappable model) => model.call(ones(3, 4)).square().sum();

    private static (byte[] Masters, LossScalerState Scaler, int Pending) Snapshot(MasterWeightOptimizer opt) =>
        (opt.ParameterNames.SelectMany(n => opt.MasterOf(n).data<float>().ToArray()).SelectMany(BitConverter.GetBytes).ToArray(),
         opt.Scaler.State, opt.PendingMicroBatches);

    [Fact]
    public void A_replaced_child_module_is_refused_at_the_next_step_naming_the_parameter_with_nothing_changed()
    {
        manual_seed(3);
        using var model = new Swappable();
        using var opt = new MasterWeightOptimizer(model, ps => optim.SGD(ps, 0.1), new MasterWeightOptions { Scaling = LossScalerOptions.Dynamic });
        Assert.True(opt.Step(Loss(model)).Applied); // the unchanged set steps
        var before = Snapshot(opt);

        model.ReplaceSecond(Linear(8, 3).to(ScalarType.BFloat16)); // a new child, the policy applied to it again
        var error = Assert.Throws<InvalidOperationException>(() => opt.Step(model.First.call(ones(3, 4)).sum()));

        Assert.Contains("Step() refused: the module's trainable parameters changed after this MasterWeightOptimizer was built", error.Message);
        Assert.Contains("'fc2.weight' was replaced by another tensor (Float32[2,8] before, BFloat16[3,8] now)", error.Message);
        Assert.Contains("'fc2.bias' was replaced by another tensor (Float32[2] before, BFloat16[3] now)", error.Message);
        Assert.Contains("Build a new optimizer over the module", error.Message);
        Assert.DoesNotContain("fc1", error.Message);
        var after = Snapshot(opt);
        Assert.Equal(before.Masters, after.Masters);
        Assert.Equal(before.Scaler, after.Scaler);
        Assert.Equal(0, after.Pending);                      // the loss was not backpropagated into the accumulators
        Assert.Throws<InvalidOperationException>(() => opt.Step()); // and stepping without a loss is refused the same way
    }

    [Fact]
    public void A_registered_or_frozen_parameter_is_refused_at_save_and_load_and_no_file_or_state_changes()
    {
        manual_seed(4);
        using var model = new Swappable();
        using var opt = new MasterWeightOptimizer(model, ps => optim.AdamW(ps, 1e-2));
        opt.Step(Loss(model));
        var path = Path.Combine(directory, "model.ckpt");
        opt.Save(path);
        var saved = File.ReadAllBytes(path);
        opt.Step(Loss(model));
        var before = Snapshot(opt);

        model.register_parameter("temperature", new Parameter(zeros(1, 5, dtype: ScalarType.BFloat16)));
        model.First.bias!.requires_grad = false;

        var save = Assert.Throws<InvalidOperationException>(() => opt.Save(path));
        Assert.Contains("Save() refused", save.Message);
        Assert.Contains("'temperature' (BFloat16[1,5]) was added", save.Message);
        Assert.Contains("'fc1.bias' was frozen (requires_grad is false now)", save.Message);
        Assert.Equal(saved, File.ReadAllBytes(path));
        Assert.Equal(new[] { "model.ckpt" }, Directory.GetFiles(directory).Select(Path.GetFileName));

        Assert.Contains("state_dict() refused", Assert.Throws<InvalidOperationException>(() => opt.state_dict()).Message);
        var load = Assert.Throws<InvalidOperationException>(() => opt.Load(path));
        Assert.Contains("Load() refused", load.Message);
        Assert.Contains("'temperature' (BFloat16[1,5]) was added", load.Message);
        var after = Snapshot(opt);
        Assert.Equal(before.Masters, after.Masters);
        Assert.Equal(before.Scaler, after.Scaler);
    }

    [Fact]
    public void A_removed_parameter_is_named_with_its_shape_and_dtype()
    {
        manual_seed(5);
        using var model = new Swappable();
        using var opt = new MasterWeightOptimizer(model, ps => optim.SGD(ps, 0.1));
        model.First.bias = null; // TorchSharp's Linear drops its registered bias

        var error = Assert.Throws<InvalidOperationException>(() => opt.Step(Loss(model)));

        Assert.Contains("'fc1.bias' (Float32[8]) was removed", error.Message);
        Assert.Equal(0, opt.PendingMicroBatches);
    }
}
