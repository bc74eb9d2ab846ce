using System.Collections.Generic;
using PrecisionPolicy.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy;

/// <summary>
/// An identity autograd node on a traced site's output: backward records the gradient that reaches the
/// output and passes it on unchanged. TorchSharp 0.107 has no tensor gradient hooks.
/// </summary>
internal sealed class TracedGradientFunction : autograd.SingleTensorFunction<TracedGradientFunction>
{
    private const string Key = "site";

    public override string Name => nameof(TracedGradientFunction);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var tensor = (Tensor)vars[0];
        ctx.save_data(Key, vars[1]);
        // A new tensor, not the input: an autograd node's output must be its own (a view would forbid in-place ops on it).
        return tensor.clone();
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        NumericsTrace.RecordGradient((NumericsSite)ctx.get_data(Key), grad_output);
        return [grad_output, null!];
    }
}
