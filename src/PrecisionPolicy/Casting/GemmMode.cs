namespace PrecisionPolicy.Casting;

/// <summary>How a low-precision matrix product (linear, matmul, conv, attention) runs on a device for a compute dtype; <see cref="GemmModes"/> picks it.</summary>
public enum GemmMode
{
    /// <summary>Run the op in BF16/FP16: fast on CUDA and on CPUs with AVX512-BF16 or AMX.</summary>
    Native,
    /// <summary>
    /// Round operands to the compute dtype, widen them to float32, run the op in float32 and round
    /// the result to the compute dtype: a tensor-core GEMM's numerics (low-precision inputs, FP32
    /// accumulation) on CPUs where native BF16/FP16 GEMMs are ~120× slower than FP32.
    /// </summary>
    Fp32Accumulate,
}
