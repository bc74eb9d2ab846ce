using System;
using System.Linq;
using PrecisionPolicy.Casting;
using PrecisionPolicy.CompilerServices;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.IntegrationTests;

/// <summary>A model that ends in a Linear, as most classifiers do.</summary>
[Autocast(Precision.BF16)]
public sealed partial class LinearClassifier : Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly Linear fc2;

    public LinearClassifier(int inputs, int classes) : base(nameof(LinearClassifier))
    {
        fc1 = Linear(inputs, 16);
        fc2 = Linear(16, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => fc2.call(functional.relu(fc1.call(x)));
}

/// <summary>The outermost policy module hands floating outputs back in FP32; nested ones pass the compute dtype on.</summary>
public sealed class OutputDtypeTests() : NativeGemmTests(5)
{
    [Fact]
    public void Loss_written_outside_the_model_runs_in_fp32()
    {
        var model = new LinearClassifier(8, 3).ApplyPrecisionPolicy();
        var logits = model.call(randn(4, 8));
        var loss = functional.cross_entropy(logits, tensor(new long[] { 0, 2, 1, 0 }));
        loss.backward();
        var fc2 = model.named_parameters().Single(p => p.name == "fc2.weight").parameter;
        Assert.Equal(ScalarType.Float32, logits.dtype);
        Assert.Equal(ScalarType.Float32, loss.dtype);
        Assert.Equal(ScalarType.BFloat16, fc2.dtype);      // the model still computes in BF16
        Assert.Equal(ScalarType.BFloat16, fc2.grad!.dtype); // and its gradients flow back through the cast
    }

    [Fact]
    public void Forward_bypasses_the_output_hook_as_it_bypasses_every_hook()
    {
        var model = new LinearClassifier(8, 3).ApplyPrecisionPolicy();
        Assert.Equal(ScalarType.BFloat16, model.forward(randn(4, 8)).dtype);
    }

    [Fact]
    public void A_nested_policy_module_hands_its_compute_dtype_to_the_parent()
    {
        var alone = new HalfInner(8).ApplyPrecisionPolicy();
        Assert.Equal(ScalarType.Float32, alone.call(randn(2, 8)).dtype); // outermost: FP32 out

        var model = new Mixed(8).ApplyPrecisionPolicy();
        var inner = model.named_children().Single(c => c.name == "inner").module;
        ScalarType? handedOver = null;
        ((Module<Tensor, Tensor>)inner).register_forward_hook((_, _, output) =>
        {
            handedOver = output.dtype;
            return output;
        });
        var result = model.call(randn(2, 8));
        Assert.Equal(ScalarType.Float16, handedOver); // no FP16 -> FP32 -> BF16 round trip inside the tree
        Assert.Equal(ScalarType.Float32, result.dtype);

        ((HalfInner)inner).ApplyPrecisionPolicy(); // applied alone again, it stays nested
        model.call(randn(2, 8));
        Assert.Equal(ScalarType.Float16, handedOver);
    }

    private sealed class Host : Module<Tensor, Tensor>
    {
        private readonly Linear fc = Linear(4, 4);

        public Host() : base(nameof(Host)) => RegisterComponents();

        public override Tensor forward(Tensor x) => fc.call(x);
    }

    [Theory]
    [InlineData(AutocastOutput.Float32, ScalarType.Float32)]
    [InlineData(AutocastOutput.Compute, ScalarType.BFloat16)]
    public void The_plan_sets_the_output_dtype(AutocastOutput output, ScalarType expected)
    {
        var host = new Host();
        ModulePolicy.Apply(host, new PrecisionPlan(nameof(Host), Precision.BF16, Array.Empty<string>(), output: output));
        Assert.Equal(expected, host.call(randn(2, 4)).dtype);
    }

    [Fact]
    public void An_undefined_output_value_is_rejected()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new PrecisionPlan("M", Precision.BF16, Array.Empty<string>(), output: (AutocastOutput)7));
        Assert.Equal("output", error.ParamName);
    }
}
