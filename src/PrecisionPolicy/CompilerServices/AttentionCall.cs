using static TorchSharp.torch;

using PrecisionPolicy.Casting;

namespace PrecisionPolicy.CompilerServices;

public static partial class PolicyCasts
{
    /// <summary>
    /// <c>scaled_dot_product_attention</c> in a low-precision region, honouring the GEMM mode as the
    /// functional low-precision rows do: with <see cref="GemmMode.Native"/> query, key, value and a
    /// floating mask are cast to the compute dtype; with <see cref="GemmMode.Fp32Accumulate"/> they
    /// are rounded to it and widened to FP32, attention runs in FP32 and the result is rounded to the
    /// compute dtype (a fused 16-bit attention kernel's numerics: 16-bit operands, FP32 softmax and
    /// accumulation). A boolean mask is never cast. For hand-written attention in policy-aware
    /// modules; generated interceptors of the functional call do the same.
    /// </summary>
    public static Tensor ScaledDotProductAttention(Tensor query, Tensor key, Tensor value, Tensor? attnMask, double dropout, bool isCausal, ScalarType compute)
    {
        var result = nn.functional.scaled_dot_product_attention(
            Autocast.LowPrecision(query, compute),
            Autocast.LowPrecision(key, compute),
            Autocast.LowPrecision(value, compute),
            Autocast.LowPrecisionOptional(attnMask, compute),
            dropout,
            isCausal);
        return Autocast.LowPrecisionResult(result, compute);
    }
}
