namespace PrecisionPolicy;

/// <summary>The compute precision of an <see cref="AutocastAttribute"/> region.</summary>
public enum Precision
{
    /// <summary>Everything in float32: the reference run.</summary>
    FP32,
    /// <summary>bfloat16 compute: FP32 range, 8-bit mantissa; normally needs no loss scaling.</summary>
    BF16,
    /// <summary>float16 compute: max 65504, needs loss scaling (dynamic by default).</summary>
    FP16,
    /// <summary>FP8 hybrid: E4M3 forward operands, E5M2 gradients, each tensor with its own scale.</summary>
    FP8,
}
