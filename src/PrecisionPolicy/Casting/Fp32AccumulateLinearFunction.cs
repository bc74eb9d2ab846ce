using System.Collections.Generic;
using PrecisionPolicy.Autograd;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Casting;

/// <summary>
/// <c>linear</c> in <see cref="GemmMode.Fp32Accumulate"/> as one autograd node that keeps the 16-bit
/// operands for backward. Widening the operands and calling <c>functional.linear</c> has the same
/// numerics, but autograd then saves the FP32 copies, so a BF16 model would hold its activations
/// in FP32 (more than the FP32 model: both copies live until the cast is freed). Here forward widens,
/// multiplies in FP32 and rounds the result to the operands' dtype; backward widens the saved operands
/// again and computes the gradients in FP32 as linear's own backward does (grad·W, gradᵀ·X, the sum
/// over rows), each rounded to its operand's dtype.
/// Its output is held once (<see cref="CustomNodeOutputCache"/>).
/// A failure in backward (a saved operand changed in place since forward) fails that backward (<see cref="GuardedAutogradFunction{T}"/>).
/// </summary>
internal sealed class Fp32AccumulateLinearFunction : GuardedAutogradFunction<Fp32AccumulateLinearFunction>
{
    private const string HasBias = "bias";

    public override string Name => nameof(Fp32AccumulateLinearFunction);

    protected override string Describe(autograd.AutogradContext ctx) => "a Linear in Fp32Accumulate mode";

    /// <summary>The FP32-accumulated <c>linear</c> of 16-bit operands, rounded to their dtype.</summary>
    public static Tensor Apply(Tensor input, Tensor weight, Tensor? bias) =>
        bias is null ? ApplyReleasingOutputCopy(input, weight) : ApplyReleasingOutputCopy(input, weight, bias);

    /// <summary>vars: input and weight in the compute dtype, then the bias (same dtype) when there is one.</summary>
    protected override Tensor Forward(autograd.AutogradContext ctx, object[] vars)
    {
        var input = (Tensor)vars[0];
        var weight = (Tensor)vars[1];
        var bias = vars.Length > 2 ? (Tensor)vars[2] : null;
        ctx.save_for_backward([input, weight]);
        ctx.save_data(HasBias, bias is not null);
        using var scope = NewDisposeScope();
        var result = nn.functional.linear(input.to(ScalarType.Float32), weight.to(ScalarType.Float32), bias?.to(ScalarType.Float32));
        return result.to(input.dtype).MoveToOuterDisposeScope();
    }

    // Temporaries are disposed here rather than left to the finalizer: an FP32 copy of a gradient or an
    // operand would otherwise outlive the node and count against the memory this node saves.
    protected override List<Tensor> Backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        using var scope = NewDisposeScope();
        var grads = Gradients(ctx, gradOutput, (bool)ctx.get_data(HasBias));
        foreach (var g in grads) g.MoveToOuterDisposeScope();
        return grads;
    }

    private static List<Tensor> Gradients(autograd.AutogradContext ctx, Tensor gradOutput, bool hasBias)
    {
        var saved = ctx.get_saved_variables();
        var (input, weight) = (saved[0], saved[1]);
        var grad = gradOutput.to(ScalarType.Float32);
        var rows = grad.reshape(-1, grad.shape[^1]);
        var gradInput = grad.matmul(weight.to(ScalarType.Float32)).to(input.dtype);
        var gradWeight = rows.t().mm(input.to(ScalarType.Float32).reshape(-1, input.shape[^1])).to(weight.dtype);
        return hasBias ? [gradInput, gradWeight, rows.sum(0L).to(weight.dtype)] : [gradInput, gradWeight];
    }
}
