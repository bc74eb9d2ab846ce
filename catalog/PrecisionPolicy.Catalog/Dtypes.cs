namespace PrecisionPolicy.Catalog;

/// <summary>
/// TorchSharp's <c>torch.ScalarType</c> codes (they mirror c10::ScalarType) and member names, for
/// the components that do not reference TorchSharp; and the precision → dtype map.
/// </summary>
internal static class Dtypes
{
    public const int Float16 = 5;
    public const int Float32 = 6;
    public const int Float64 = 7;
    public const int BFloat16 = 15;

    /// <summary>float8_e5m2: TorchSharp 0.107 has no named member, so it is written <c>(ScalarType)23</c>.</summary>
    public const int Float8E5M2 = 23;

    /// <summary>float8_e4m3fn: TorchSharp 0.107 has no named member, so it is written <c>(ScalarType)24</c>.</summary>
    public const int Float8E4M3 = 24;

    public const string Float16Name = "Float16";
    public const string Float32Name = "Float32";
    public const string BFloat16Name = "BFloat16";

    /// <summary>
    /// The dtype working weights are stored in and low-precision ops compute in. FP8 stores BF16
    /// working weights: the FP8 quantization happens per op with per-tensor scales.
    /// </summary>
    public static int ComputeDtype(Precision precision) => precision switch
    {
        Precision.BF16 or Precision.FP8 => BFloat16,
        Precision.FP16 => Float16,
        _ => Float32,
    };

    /// <summary>The <c>torch.ScalarType</c> member name of <see cref="ComputeDtype"/>.</summary>
    public static string ComputeDtypeName(Precision precision) => ComputeDtype(precision) switch
    {
        BFloat16 => BFloat16Name,
        Float16 => Float16Name,
        _ => Float32Name,
    };

    /// <summary>True when the precision needs loss scaling by default (FP16's 5-bit exponent; FP8's E5M2 gradients).</summary>
    public static bool ScalesLossByDefault(Precision precision) => precision is Precision.FP16 or Precision.FP8;
}

/// <summary>FP8 format facts (OCP FP8 spec; TransformerEngine's FP8_MAX).</summary>
internal static class Fp8Formats
{
    /// <summary>Largest finite E4M3 (e4m3fn) value: 1.75 × 2^8.</summary>
    public const float E4M3Max = 448f;

    /// <summary>Largest finite E5M2 value: 1.75 × 2^15.</summary>
    public const float E5M2Max = 57344f;

    /// <summary>The ScalarType code of a format.</summary>
    public static int Dtype(Fp8Format format) => format == Fp8Format.E4M3 ? Dtypes.Float8E4M3 : Dtypes.Float8E5M2;

    /// <summary>The largest finite value of a format.</summary>
    public static float Max(Fp8Format format) => format == Fp8Format.E4M3 ? E4M3Max : E5M2Max;
}
