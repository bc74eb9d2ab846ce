namespace PrecisionPolicy;

/// <summary>
/// The dtype gradients are summed across data-parallel ranks in: DeepSpeed's
/// <c>communication_data_type</c>, FSDP's <c>MixedPrecision.reduce_dtype</c>. A 16-bit reduction
/// halves the bytes on the wire and rounds every partial sum of the ring to 8 (BF16) or 11 (FP16)
/// significant bits; float32 reduces exactly what the FP32 masters then receive.
/// </summary>
public enum AutocastReduce
{
    /// <summary>
    /// The compute dtype, the gradients' own (the default): what DeepSpeed does without
    /// <c>communication_data_type</c> and FSDP with <c>reduce_dtype=None</c>.
    /// </summary>
    Compute = 0,

    /// <summary>float32, whatever the compute precision (FSDP's usual <c>reduce_dtype=torch.float32</c>).</summary>
    Float32 = 1,

    /// <summary>bfloat16: FP32's range, 8 significant bits.</summary>
    BFloat16 = 2,

    /// <summary>
    /// float16: 11 significant bits and a 5-bit exponent: a gradient divided by the rank count before the
    /// sum can underflow below 2^-24 unless the loss scale keeps it up.
    /// </summary>
    Float16 = 3,
}
