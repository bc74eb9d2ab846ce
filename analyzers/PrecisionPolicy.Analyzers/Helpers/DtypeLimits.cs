namespace PrecisionPolicy.Analyzers.Helpers;

/// <summary>
/// What a 16-bit (or 8-bit) dtype does to values: the largest finite magnitude it holds, and the
/// largest integer up to which every integer is exact (2^(significand bits)).
/// </summary>
internal static class DtypeLimits
{
    /// <summary>float16: 65504. bfloat16: about 3.39e38. float8: E5M2's 57344 (E4M3's 448 is smaller; the larger avoids false reports).</summary>
    public static double MaxFinite(LowPrecisionKind kind) => kind switch
    {
        LowPrecisionKind.Float16 => 65504.0,
        LowPrecisionKind.BFloat16 => 3.3895313892515355E+38,
        LowPrecisionKind.Float8 => 57344.0,
        _ => double.MaxValue,
    };

    /// <summary>float16: 2048 (11 significant bits). bfloat16: 256 (8 bits). float8: 16 (E4M3's 4 bits).</summary>
    public static double ExactIntegers(LowPrecisionKind kind) => kind switch
    {
        LowPrecisionKind.Float16 => 2048,
        LowPrecisionKind.BFloat16 => 256,
        LowPrecisionKind.Float8 => 16,
        _ => 16777216,
    };
}
