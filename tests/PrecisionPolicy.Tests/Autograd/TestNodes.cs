using System;
using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Autograd;

/// <summary>
/// An identity node whose backward hands its input a sparse gradient: the engine passes a sparse gradient on as
/// it is, and the toolkit's nodes above it fail on one (<c>max</c> has no sparse kernel), a failure injected
/// without touching the node under test.
/// </summary>
internal sealed class SparseGradient : autograd.SingleTensorFunction<SparseGradient>
{
    public override string Name => nameof(SparseGradient);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars) => ((Tensor)vars[0]).clone();

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) => [grad_output.to_sparse()];
}

/// <summary>An identity node whose backward first runs an action given at forward (it must not throw).</summary>
internal sealed class BackwardGate : autograd.SingleTensorFunction<BackwardGate>
{
    private const string Key = "action";

    public override string Name => nameof(BackwardGate);

    public static Tensor Apply(Tensor tensor, Action onBackward) => apply(tensor, onBackward);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        ctx.save_data(Key, vars[1]);
        return ((Tensor)vars[0]).clone();
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        ((Action)ctx.get_data(Key))();
        return [grad_output, null!];
    }
}
