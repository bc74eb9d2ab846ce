using System.Collections.Generic;
using PrecisionPolicy.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy;

/// <summary>
/// The autograd node of <see cref="Fp8Autocast.Operand"/>: forward quantizes the operand, backward
/// quantizes its incoming gradient. TorchSharp 0.107 has no tensor gradient hooks, so a custom
/// <see cref="autograd.SingleTensorFunction{T}"/> is the one place to touch the gradient.
/// </summary>
internal sealed class Fp8QuantizeFunction : autograd.SingleTensorFunction<Fp8QuantizeFunction>
{
    private const string Key = "fp8";

    /// <summary>What backward needs; captured at forward because backward may run on a libtorch thread with no ambient context.</summary>
    internal sealed record Sites(Fp8Context Context, Fp8ScalingState Forward, Fp8ScalingState Backward, ScalarType Output);

    public override string Name => nameof(Fp8QuantizeFunction);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var tensor = (Tensor)vars[0];
        var sites = (Sites)vars[1];
        ctx.save_data(Key, (sites, tensor.dtype));
        return Fp8Autocast.Quantize(sites.Context, sites.Forward, tensor, sites.Output);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        var (sites, inputDtype) = ((Sites, ScalarType))ctx.get_data(Key);
        // The gradient leaves in the operand's dtype, as autograd expects of an input's gradient.
        var grad = Fp8Autocast.Quantize(sites.Context, sites.Backward, grad_output, inputDtype);
        return [grad, null!];
    }
}
