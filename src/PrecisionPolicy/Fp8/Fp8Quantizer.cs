using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy;

/// <summary>
/// Scale → saturate → round to FP8 → unscale, in float32. The rounding is libtorch's own
/// float → float8 conversion (round to nearest even), so the simulated values are the ones an FP8
/// GEMM would read.
/// </summary>
internal static class Fp8Quantizer
{
    /// <summary>Largest finite E4M3 (e4m3fn) value: 1.75 × 2^8 (OCP FP8 spec; TransformerEngine's FP8_MAX for E4M3).</summary>
    public const float E4M3Max = 448f;

    /// <summary>Largest finite E5M2 value: 1.75 × 2^15 (OCP FP8 spec; TransformerEngine's FP8_MAX for E5M2).</summary>
    public const float E5M2Max = 57344f;

    public static float MaxOf(Fp8Format format) => format == Fp8Format.E4M3 ? E4M3Max : E5M2Max;

    public static ScalarType DtypeOf(Fp8Format format) =>
        format == Fp8Format.E4M3 ? AutocastDtypes.Float8E4M3 : AutocastDtypes.Float8E5M2;

    /// <summary>
    /// The largest magnitude of a float32 tensor, or NaN when it holds a NaN (torch's max propagates NaN).
    /// </summary>
    public static float Amax(Tensor x32)
    {
        if (x32.numel() == 0) return 0f;
        using var amax = x32.abs().max();
        return amax.item<float>();
    }

    /// <summary>
    /// Quantizes <paramref name="x32"/> (float32) with <paramref name="scale"/> and returns the
    /// dequantized float32 tensor. Scaled magnitudes above the format's max (and ±∞) are clamped to
    /// ±max before the cast, because e4m3fn has no infinity and libtorch turns an out-of-range
    /// value into NaN; <paramref name="saturated"/> counts them. NaN stays NaN.
    /// </summary>
    /// <param name="x32">The float32 tensor.</param>
    /// <param name="scale">The per-tensor scale (positive and finite).</param>
    /// <param name="format">The FP8 format.</param>
    /// <param name="knownAmax">The tensor's amax, to skip the saturation count when nothing can saturate.</param>
    /// <param name="saturated">Elements clamped to ±max.</param>
    public static Tensor QuantizeDequantize(Tensor x32, float scale, Fp8Format format, float knownAmax, out long saturated)
    {
        var max = MaxOf(format);
        using var scope = NewDisposeScope();
        var scaled = x32 * scale;
        saturated = 0;
        // float32 multiply: the same product the tensor holds, so the test agrees with the clamp below.
        if (!(knownAmax * scale <= max)) saturated = scaled.abs().gt(max).sum().item<long>();
        var rounded = scaled.clamp(-max, max).to(DtypeOf(format)).to(ScalarType.Float32);
        // Divide rather than multiply by a rounded 1/scale: one rounding instead of two.
        return rounded.div_(scale).MoveToOuterDisposeScope();
    }
}
