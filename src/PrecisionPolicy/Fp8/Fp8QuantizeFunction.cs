using System.Collections.Generic;
using PrecisionPolicy.Autograd;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Fp8;

/// <summary>
/// The autograd node of <see cref="CompilerServices.Fp8Autocast.Operand"/>: forward quantizes the operand, backward
/// quantizes its incoming gradient. TorchSharp 0.107 has no tensor gradient hooks, so a custom
/// autograd function is the one place to touch the gradient. A failure in backward fails that backward
/// (<see cref="GuardedAutogradFunction{T}"/>).
/// </summary>
internal sealed class Fp8QuantizeFunction : GuardedAutogradFunction<Fp8QuantizeFunction>
{
    private const string Key = "fp8";

    /// <summary>What backward needs; captured at forward because backward may run on a libtorch thread with no ambient context.</summary>
    internal sealed record Sites(Fp8Context Context, Fp8ScalingState Forward, Fp8ScalingState Backward, ScalarType Output);

    public override string Name => nameof(Fp8QuantizeFunction);

    protected override string Describe(autograd.AutogradContext ctx) =>
        $"the FP8 cast of operand '{(((Sites Sites, ScalarType))ctx.get_data(Key)).Sites.Backward.Site}'";

    protected override Tensor Forward(autograd.AutogradContext ctx, object[] vars)
    {
        var tensor = (Tensor)vars[0];
        var sites = (Sites)vars[1];
        ctx.save_data(Key, (sites, tensor.dtype));
        return sites.Context.Quantize(sites.Forward, tensor, sites.Output);
    }

    protected override List<Tensor> Backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var (sites, inputDtype) = ((Sites, ScalarType))ctx.get_data(Key);
        // The gradient leaves in the operand's dtype, as autograd expects of an input's gradient.
        var grad = sites.Context.Quantize(sites.Backward, gradOutput, inputDtype);
        return [grad, null!];
    }
}
