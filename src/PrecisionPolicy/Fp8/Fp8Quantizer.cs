using PrecisionPolicy.Catalog;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Fp8;

/// <summary>
/// Scale → saturate → round to FP8 → unscale, in float32. The rounding is libtorch's own
/// float → float8 conversion (round to nearest even), so the simulated values are the ones an FP8
/// GEMM would read.
/// </summary>
internal static class Fp8Quantizer
{
    /// <summary>Largest finite E4M3 (e4m3fn) value: 1.75 × 2^8 (OCP FP8 spec; TransformerEngine's FP8_MAX for E4M3).</summary>
    public const float E4M3Max = Fp8Formats.E4M3Max;

    /// <summary>Largest finite E5M2 value: 1.75 × 2^15 (OCP FP8 spec; TransformerEngine's FP8_MAX for E5M2).</summary>
    public const float E5M2Max = Fp8Formats.E5M2Max;

    public static float MaxOf(Fp8Format format) => Fp8Formats.Max(format);

    /// <summary>
    /// Scaled magnitudes above this count as saturated: max plus half the top binade's spacing
    /// (E4M3 448 + 16, E5M2 57344 + 4096). Below it, round to nearest would give ±max anyway, so
    /// the clamp changed nothing; that matters because amax × (FP8_MAX / amax) can land one float
    /// ulp above FP8_MAX, which is no saturation.
    /// </summary>
    public static float SaturationThresholdOf(Fp8Format format) => format == Fp8Format.E4M3 ? 464f : 61440f;

    public static ScalarType DtypeOf(Fp8Format format) => (ScalarType)Fp8Formats.Dtype(format);

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
    /// value into NaN; <paramref name="saturated"/> counts those beyond rounding distance of ±max
    /// (<see cref="SaturationThresholdOf"/>). NaN stays NaN.
    /// </summary>
    /// <param name="x32">The float32 tensor.</param>
    /// <param name="scale">The per-tensor scale (positive and finite).</param>
    /// <param name="format">The FP8 format.</param>
    /// <param name="knownAmax">The tensor's amax, to skip the saturation count when nothing can saturate.</param>
    /// <param name="saturated">Elements clamped to ±max from beyond rounding distance.</param>
    public static Tensor QuantizeDequantize(Tensor x32, float scale, Fp8Format format, float knownAmax, out long saturated)
    {
        var max = MaxOf(format);
        var threshold = SaturationThresholdOf(format);
        using var scope = NewDisposeScope();
        // Scalars held by `using` for the whole call: see RootedScalars.
        using var scaleScalar = scale.ToScalar();
        using var low = (-max).ToScalar();
        using var high = max.ToScalar();
        using var thresholdScalar = threshold.ToScalar();
        var scaled = x32.mul(scaleScalar);
        saturated = 0;
        // The float32 product bounds every element's, so counting can be skipped when it is in range.
        if (!(knownAmax * scale <= threshold)) saturated = scaled.abs().gt(thresholdScalar).sum().item<long>();
        var rounded = scaled.clamp(low, high).to(DtypeOf(format)).to(ScalarType.Float32);
        // Divide rather than multiply by a rounded 1/scale: one rounding instead of two.
        return rounded.div_(scaleScalar).MoveToOuterDisposeScope();
    }
}
