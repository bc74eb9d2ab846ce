using System.Collections.Generic;
using PrecisionPolicy.Autograd;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Casting;

/// <summary>
/// A two-operand GEMM op (<c>matmul</c>, <c>bmm</c>) in <see cref="GemmMode.Fp32Accumulate"/> as one
/// autograd node that keeps the 16-bit operands for backward. Widening the operands and calling the op
/// has the same numerics, but autograd then saves the FP32 copies (attention's q·kᵀ and weights·v would
/// hold their activations in FP32). Forward widens, multiplies in FP32 and rounds the result to the
/// operands' dtype. Backward widens the saved operands again, runs the op once more on them and lets
/// autograd differentiate that FP32 op (its own backward, so broadcast and 1-D operands give exactly the
/// composite's gradients), each gradient rounded to its operand's dtype: one extra FP32 GEMM per node
/// for holding half the bytes. Its output is held once (<see cref="CustomNodeOutputCache"/>). A failure in backward (a saved operand changed in place since forward) fails that
/// backward (<see cref="GuardedAutogradFunction{T}"/>).
/// </summary>
internal abstract class Fp32AccumulateGemmFunction<T> : GuardedAutogradFunction<T> where T : Fp32AccumulateGemmFunction<T>, new()
{
    private const string Dtype = "dtype";

    /// <summary>The FP32-accumulated op of two 16-bit operands of one dtype, rounded to it.</summary>
    public static Tensor Apply(Tensor left, Tensor right) => ApplyReleasingOutputCopy(left, right);

    /// <summary>The op itself (on FP32 operands).</summary>
    protected abstract Tensor Multiply(Tensor left, Tensor right);

    protected override string Describe(autograd.AutogradContext ctx) => $"a {Name} in Fp32Accumulate mode";

    /// <summary>vars: the two operands, in the compute dtype.</summary>
    protected override Tensor Forward(autograd.AutogradContext ctx, object[] vars)
    {
        var left = (Tensor)vars[0];
        var right = (Tensor)vars[1];
        ctx.save_for_backward([left, right]);
        ctx.save_data(Dtype, left.dtype);
        using var scope = NewDisposeScope();
        return Multiply(left.to(ScalarType.Float32), right.to(ScalarType.Float32)).to(left.dtype).MoveToOuterDisposeScope();
    }

    // Temporaries are disposed here rather than left to the finalizer: an FP32 copy would otherwise outlive
    // the node and count against the memory this node saves.
    protected override List<Tensor> Backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var dtype = (ScalarType)ctx.get_data(Dtype);
        using var scope = NewDisposeScope();
        var saved = ctx.get_saved_variables();
        var (left, right) = (saved[0], saved[1]);
        using var enabled = enable_grad();
        var left32 = left.detach().to(ScalarType.Float32).requires_grad_(true);
        var right32 = right.detach().to(ScalarType.Float32).requires_grad_(true);
        var product = Multiply(left32, right32);
        var widened = autograd.grad([product], [left32, right32], [gradOutput.to(ScalarType.Float32)]);
        List<Tensor> grads = [widened[0].to(dtype), widened[1].to(dtype)];
        foreach (var g in grads) g.MoveToOuterDisposeScope();
        return grads;
    }
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
