using PrecisionPolicy.Casting;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tracing;

/// <summary>The range of a floating dtype: below <see cref="Tiny"/> a value is subnormal (or 0), above <see cref="Max"/> it is ∞.</summary>
internal sealed class DtypeLimits
{
    private static readonly DtypeLimits Half = new("FP16", 6.103515625e-05, 65504);                       // 2^-14, (2-2^-10)·2^15
    private static readonly DtypeLimits BFloat = new("BF16", 1.1754943508222875e-38, 3.3895313892515355e38); // 2^-126, (2-2^-7)·2^127
    private static readonly DtypeLimits Single = new("FP32", 1.1754943508222875e-38, 3.4028234663852886e38); // 2^-126, FLT_MAX
    private static readonly DtypeLimits E4M3 = new("FP8 E4M3", 0.015625, 448);                              // OCP FP8: 2^-6, 448
    private static readonly DtypeLimits E5M2 = new("FP8 E5M2", 6.103515625e-05, 57344);                      // 2^-14, 57344

    private DtypeLimits(string name, double tiny, double max)
    {
        Name = name;
        Tiny = tiny;
        Max = max;
        // Held for the process: a temporary Scalar can be finalized while an op still reads it.
        TinyScalar = tiny.ToScalar();
        MaxScalar = max.ToScalar();
    }

    public string Name { get; }
    public double Tiny { get; }
    public double Max { get; }
    public Scalar TinyScalar { get; }
    public Scalar MaxScalar { get; }

    public static DtypeLimits Of(ScalarType dtype) => dtype switch
    {
        ScalarType.Float16 => Half,
        ScalarType.BFloat16 => BFloat,
        AutocastDtypes.Float8E4M3 => E4M3,
        AutocastDtypes.Float8E5M2 => E5M2,
        _ => Single,
    };
}
