using System.Collections.Generic;
using PrecisionPolicy.Autograd;
using PrecisionPolicy.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tracing;

/// <summary>
/// An identity autograd node on a traced site's output: backward records the gradient that reaches the
/// output and passes it on unchanged. TorchSharp 0.107 has no tensor gradient hooks. A failure in backward
/// fails that backward (<see cref="GuardedAutogradFunction{T}"/>).
/// </summary>
internal sealed class TracedGradientFunction : GuardedAutogradFunction<TracedGradientFunction>
{
    private const string Key = "site";

    public override string Name => nameof(TracedGradientFunction);

    protected override string Describe(autograd.AutogradContext ctx) =>
        $"the numerics trace of {(NumericsSite)ctx.get_data(Key)}";

    protected override Tensor Forward(autograd.AutogradContext ctx, object[] vars)
    {
        var tensor = (Tensor)vars[0];
        ctx.save_data(Key, vars[1]);
        // A new tensor, not the input: an autograd node's output must be its own (a view would forbid in-place ops on it).
        return tensor.clone();
    }

    protected override List<Tensor> Backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        NumericsTrace.RecordGradient((NumericsSite)ctx.get_data(Key), gradOutput);
        return [gradOutput, null!];
    }
}
