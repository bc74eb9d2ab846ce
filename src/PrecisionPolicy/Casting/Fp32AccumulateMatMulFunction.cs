using System.Collections.Generic;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy;

/// <summary>
/// A two-operand GEMM op (<c>matmul</c>, <c>bmm</c>) in <see cref="GemmMode.Fp32Accumulate"/> as one
/// autograd node that keeps the 16-bit operands for backward. Widening the operands and calling the op
/// has the same numerics, but autograd then saves the FP32 copies (attention's q·kᵀ and weights·v would
/// hold their activations in FP32). Forward widens, multiplies in FP32 and rounds the result to the
/// operands' dtype. Backward widens the saved operands again, runs the op once more on them and lets
/// autograd differentiate that FP32 op (its own backward, so broadcast and 1-D operands give exactly the
/// composite's gradients), each gradient rounded to its operand's dtype: one extra FP32 GEMM per node
/// for holding half the bytes. Its output is not held twice (<see cref="CustomNodeOutputCache"/>). A failure in backward gives NaN gradients and is kept by
/// <see cref="Fp32AccumulateBackwardFailure"/>.
/// </summary>
internal abstract class Fp32AccumulateGemmFunction<T> : autograd.SingleTensorFunction<T> where T : Fp32AccumulateGemmFunction<T>, new()
{
    private const string Shapes = "shapes";

    /// <summary>The FP32-accumulated op of two 16-bit operands of one dtype, rounded to it.</summary>
    public static Tensor Apply(Tensor left, Tensor right) => CustomNodeOutputCache.Release(apply(left, right));

    /// <summary>The op itself (on FP32 operands).</summary>
    protected abstract Tensor Multiply(Tensor left, Tensor right);

    /// <summary>vars: the two operands, in the compute dtype.</summary>
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var left = (Tensor)vars[0];
        var right = (Tensor)vars[1];
        CustomNodeOutputCache.Remember(ctx);
        ctx.save_for_backward([left, right]);
        ctx.save_data(Shapes, new OperandShapes(left.shape, right.shape, left.dtype));
        using var scope = NewDisposeScope();
        return Multiply(left.to(ScalarType.Float32), right.to(ScalarType.Float32)).to(left.dtype).MoveToOuterDisposeScope();
    }

    // Temporaries are disposed here rather than left to the finalizer: an FP32 copy would otherwise outlive
    // the node and count against the memory this node saves.
    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
    {
        var shapes = (OperandShapes)ctx.get_data(Shapes);
        if (grad_output.IsInvalid) return [null!, null!]; // no gradient reached the output: CustomNodeOutputCache
        using var scope = NewDisposeScope();
        List<Tensor> grads;
        try
        {
            var saved = ctx.get_saved_variables();
            var (left, right) = (saved[0], saved[1]);
            using var enabled = enable_grad();
            var left32 = left.detach().to(ScalarType.Float32).requires_grad_(true);
            var right32 = right.detach().to(ScalarType.Float32).requires_grad_(true);
            var product = Multiply(left32, right32);
            var widened = autograd.grad([product], [left32, right32], [grad_output.to(ScalarType.Float32)]);
            grads = [widened[0].to(shapes.Dtype), widened[1].to(shapes.Dtype)];
        }
        catch (ExternalException e)
        {
            Fp32AccumulateBackwardFailure.Record(Name, e);
            grads = [Fp32AccumulateBackwardFailure.NaNGradient(shapes.Left, shapes.Dtype, grad_output.device), Fp32AccumulateBackwardFailure.NaNGradient(shapes.Right, shapes.Dtype, grad_output.device)];
        }
        foreach (var g in grads) g.MoveToOuterDisposeScope();
        return grads;
    }

    private sealed record OperandShapes(long[] Left, long[] Right, ScalarType Dtype);
}

/// <summary><c>matmul</c> as an <see cref="Fp32AccumulateGemmFunction{T}"/>.</summary>
internal sealed class Fp32AccumulateMatMulFunction : Fp32AccumulateGemmFunction<Fp32AccumulateMatMulFunction>
{
    public override string Name => "matmul";

    protected override Tensor Multiply(Tensor left, Tensor right) => left.matmul(right);
}

/// <summary><c>bmm</c> as an <see cref="Fp32AccumulateGemmFunction{T}"/>.</summary>
internal sealed class Fp32AccumulateBmmFunction : Fp32AccumulateGemmFunction<Fp32AccumulateBmmFunction>
{
    public override string Name => "bmm";

    protected override Tensor Multiply(Tensor left, Tensor right) => left.bmm(right);
}
