using PrecisionPolicy.CompilerServices;
using PrecisionPolicy.Optimization;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.Tests.Optimization;

/// <summary>A two-layer MLP with hand-written casts, the way generated code casts them.</summary>
internal sealed class TinyMlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly ScalarType compute;

    public TinyMlp(int inputs, int hidden, int outputs, ScalarType compute) : base(nameof(TinyMlp))
    {
        fc1 = nn.Linear(inputs, hidden);
        fc2 = nn.Linear(hidden, outputs);
        this.compute = compute;
        RegisterComponents();
        if (compute != ScalarType.Float32)
        {
            fc1.to(compute);
            fc2.to(compute);
        }
    }

    public override Tensor forward(Tensor x)
    {
        var h = Linear(fc1, x);
        h = functional.relu(h);
        return Autocast.Float32(Linear(fc2, h));
    }

    private Tensor Linear(Linear layer, Tensor x) =>
        Autocast.LowPrecisionResult(
            functional.linear(Autocast.LowPrecision(x, compute), Autocast.LowPrecision(layer.weight!, compute), Autocast.LowPrecisionOptional(layer.bias, compute)),
            compute);
}

/// <summary>Deterministic regression data and models for the optimizer tests.</summary>
internal static class Fixtures
{
    public static (Tensor X, Tensor Y) Regression(int samples, int inputs, int outputs, int seed)
    {
        var generator = new Generator((ulong)seed);
        var x = randn(new long[] { samples, inputs }, generator: generator);
        var w = randn(new long[] { inputs, outputs }, generator: generator) / inputs;
        var y = (x.matmul(w)).tanh();
        return (x.DetachFromDisposeScope(), y.DetachFromDisposeScope());
    }

    /// <summary>Trains <paramref name="model"/> on MSE for <paramref name="steps"/> full-batch steps; returns the last loss.</summary>
    public static double TrainMse(nn.Module<Tensor, Tensor> model, MasterWeightOptimizer optimizer, Tensor x, Tensor y, int steps)
    {
        double loss = 0;
        for (var i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            var l = nn.functional.mse_loss(model.call(x), y);
            optimizer.Step(l);
            loss = l.item<float>();
        }
        return loss;
    }

    public static TinyMlp Mlp(ScalarType compute, int seed = 7, int inputs = 16, int hidden = 32, int outputs = 4)
    {
        manual_seed(seed);
        return new TinyMlp(inputs, hidden, outputs, compute);
    }
}
