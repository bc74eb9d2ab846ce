using static TorchSharp.torch;

using PrecisionPolicy.Casting;

namespace PrecisionPolicy.CompilerServices;

public static partial class PolicyCasts
{
    /// <summary>
    /// <c>matmul</c> in a low-precision region: the operands rounded to the compute dtype, the product
    /// accumulated as the GEMM mode says (<see cref="Autocast.LowPrecision"/>, then
    /// <see cref="Autocast.LowPrecisionResult"/>). In <see cref="GemmMode.Fp32Accumulate"/> it is one
    /// autograd node that keeps the 16-bit operands for backward, not their FP32 widenings (the same
    /// output and gradients).
    /// </summary>
    public static Tensor MatMul(Tensor left, Tensor? right, ScalarType compute) =>
        Fp32AccumulateOperands(left, right, compute) is var (l, r)
            ? Fp32AccumulateMatMulFunction.Apply(l, r)
            : Autocast.LowPrecisionResult(Autocast.LowPrecision(left, compute).matmul(Autocast.LowPrecisionOptional(right, compute)), compute);

    /// <summary><see cref="MatMul"/> for <c>bmm</c>.</summary>
    public static Tensor Bmm(Tensor left, Tensor right, ScalarType compute) =>
        Fp32AccumulateOperands(left, right, compute) is var (l, r)
            ? Fp32AccumulateBmmFunction.Apply(l, r)
            : Autocast.LowPrecisionResult(Autocast.LowPrecision(left, compute).bmm(Autocast.LowPrecision(right, compute)), compute);

    /// <summary>
    /// <c>matmul</c> in an <c>[Autocast(Precision.FP8)]</c> region: the operands quantized at their sites
    /// (<see cref="Fp8Autocast.Operand"/>) under FP8; under an <see cref="AutocastScope"/> of another
    /// precision (a reference run of an FP8 model) it is <see cref="MatMul"/>, which is what the operand
    /// casts give there, as one node in <see cref="GemmMode.Fp32Accumulate"/>.
    /// </summary>
    public static Tensor Fp8MatMul(Tensor left, Tensor? right, string leftSite, string rightSite, ScalarType compute) =>
        AutocastScope.Effective(Precision.FP8) != Precision.FP8
            ? MatMul(left, right, compute)
            : Autocast.LowPrecisionResult(Fp8Autocast.Operand(left, leftSite).matmul(Fp8OperandOptional(right, rightSite)), compute);

    /// <summary><see cref="Fp8MatMul"/> for <c>bmm</c>.</summary>
    public static Tensor Fp8Bmm(Tensor left, Tensor right, string leftSite, string rightSite, ScalarType compute) =>
        AutocastScope.Effective(Precision.FP8) != Precision.FP8
            ? Bmm(left, right, compute)
            : Autocast.LowPrecisionResult(Fp8Autocast.Operand(left, leftSite).bmm(Fp8Autocast.Operand(right, rightSite)), compute);

    // Both operands rounded to the compute dtype when the Fp32Accumulate node applies (16-bit compute
    // dtype, castable operands, that mode on their device); otherwise null, for the composite path.
    private static (Tensor, Tensor)? Fp32AccumulateOperands(Tensor left, Tensor? right, ScalarType compute)
    {
        compute = AutocastScope.ComputeDtype(compute);
        if (right is null || compute == ScalarType.Float32 || !AutocastDtypes.IsCastable(left.dtype) || !AutocastDtypes.IsCastable(right.dtype)
            || GemmModes.For(left.device_type, compute) != GemmMode.Fp32Accumulate)
            return null;
        return (left.dtype == compute ? left : left.to(compute), right.dtype == compute ? right : right.to(compute));
    }
}
