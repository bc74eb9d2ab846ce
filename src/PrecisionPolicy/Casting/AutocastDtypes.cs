using PrecisionPolicy.Catalog;
using TorchSharp;

namespace PrecisionPolicy.Casting;

/// <summary>Maps <see cref="Precision"/> to TorchSharp dtypes, including the FP8 codes 0.107 has no names for.</summary>
public static class AutocastDtypes
{
    /// <summary>float8_e5m2 (TorchSharp 0.107 has no named member).</summary>
    public const torch.ScalarType Float8E5M2 = (torch.ScalarType)Dtypes.Float8E5M2;

    /// <summary>float8_e4m3fn (TorchSharp 0.107 has no named member).</summary>
    public const torch.ScalarType Float8E4M3 = (torch.ScalarType)Dtypes.Float8E4M3;

    /// <summary>
    /// The dtype working weights are stored in and low-precision ops compute in. FP8 stores BF16
    /// working weights: the FP8 quantization happens per op with per-tensor scales.
    /// </summary>
    public static torch.ScalarType ComputeDtype(Precision precision) => (torch.ScalarType)Dtypes.ComputeDtype(precision);

    /// <summary>True for dtypes autocast may change: float16, bfloat16, float32 (never float64, ints, bool).</summary>
    public static bool IsCastable(torch.ScalarType dtype) =>
        dtype is torch.ScalarType.Float32 or torch.ScalarType.Float16 or torch.ScalarType.BFloat16;

    /// <summary>Bytes per element of a dtype the manifest reports.</summary>
    public static int ElementSize(torch.ScalarType dtype) => dtype switch
    {
        torch.ScalarType.Float64 or torch.ScalarType.Int64 or torch.ScalarType.ComplexFloat32 => 8,
        torch.ScalarType.Float32 or torch.ScalarType.Int32 => 4,
        torch.ScalarType.Float16 or torch.ScalarType.BFloat16 or torch.ScalarType.Int16 => 2,
        torch.ScalarType.ComplexFloat64 => 16,
        _ => 1,
    };
}
