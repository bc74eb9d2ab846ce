using System.Collections.Generic;
using PrecisionPolicy.Autograd;
using PrecisionPolicy.Casting;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Quantization;

/// <summary>
/// <c>linear</c> against an NF4 weight as one autograd node that keeps no 16-bit copy of the weight: forward
/// dequantizes it to the input's dtype (the compute dtype), multiplies and frees it; backward dequantizes it again
/// for the input's gradient (grad · W), as bitsandbytes' MatMul4Bit does, and gives the frozen weight none. Both
/// GEMMs follow the <see cref="GemmMode"/> of the device: native in the compute dtype, or operands widened to
/// FP32 and the result rounded to the compute dtype.
/// </summary>
internal sealed class Nf4LinearFunction : GuardedAutogradFunction<Nf4LinearFunction>
{
    private const string WeightKey = "nf4-weight";

    public override string Name => nameof(Nf4LinearFunction);

    protected override string Describe(autograd.AutogradContext ctx) => "an NF4 Linear";

    /// <summary>x · Wᵀ with W dequantized from <paramref name="weight"/> to <paramref name="input"/>'s dtype.</summary>
    public static Tensor Apply(Tensor input, Nf4Tensor weight) => ApplyReleasingOutputCopy(input, weight);

    protected override Tensor Forward(autograd.AutogradContext ctx, object[] vars)
    {
        var input = (Tensor)vars[0];
        var weight = (Nf4Tensor)vars[1];
        ctx.save_data(WeightKey, weight);
        using var scope = NewDisposeScope();
        var w = weight.Dequantize(input.dtype);
        return Gemm(input, w, transposeWeight: true).MoveToOuterDisposeScope();
    }

    protected override List<Tensor> Backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var weight = (Nf4Tensor)ctx.get_data(WeightKey);
        using var scope = NewDisposeScope();
        var w = weight.Dequantize(gradOutput.dtype);
        var gradInput = Gemm(gradOutput, w, transposeWeight: false).MoveToOuterDisposeScope();
        return [gradInput, null!];
    }

    // x·Wᵀ (forward) or g·W (backward) in the operands' dtype, accumulated as the GEMM mode says.
    private static Tensor Gemm(Tensor left, Tensor weight, bool transposeWeight)
    {
        var dtype = left.dtype;
        var widen = dtype != ScalarType.Float32 && GemmModes.For(left.device_type, dtype) == GemmMode.Fp32Accumulate;
        var (l, w) = widen ? (left.to(ScalarType.Float32), weight.to(ScalarType.Float32)) : (left, weight);
        var product = transposeWeight ? nn.functional.linear(l, w) : l.matmul(w);
        return widen ? product.to(dtype) : product;
    }
}
