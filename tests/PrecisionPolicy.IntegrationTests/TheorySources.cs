using PrecisionPolicy.Casting;
using Xunit;

namespace PrecisionPolicy.IntegrationTests;

/// <summary>The 16-bit precisions and the GEMM modes the integration theories run over.</summary>
internal static class TheoryAxes
{
    public static readonly Precision[] LowPrecisions = [Precision.BF16, Precision.FP16];

    public static readonly GemmMode[] GemmModes = [GemmMode.Native, GemmMode.Fp32Accumulate];
}

/// <summary>Each GEMM mode: <c>[ClassData(typeof(EachGemmMode))]</c>.</summary>
public sealed class EachGemmMode : TheoryData<GemmMode>
{
    public EachGemmMode() => AddRange(TheoryAxes.GemmModes);
}

/// <summary>Each 16-bit precision: <c>[ClassData(typeof(EachLowPrecision))]</c>.</summary>
public sealed class EachLowPrecision : TheoryData<Precision>
{
    public EachLowPrecision() => AddRange(TheoryAxes.LowPrecisions);
}

/// <summary>Each 16-bit precision under each GEMM mode: <c>[ClassData(typeof(LowPrecisionsInEachGemmMode))]</c>.</summary>
public sealed class LowPrecisionsInEachGemmMode : TheoryData<Precision, GemmMode>
{
    public LowPrecisionsInEachGemmMode()
    {
        foreach (var precision in TheoryAxes.LowPrecisions)
        {
            foreach (var mode in TheoryAxes.GemmModes)
            {
                Add(precision, mode);
            }
        }
    }
}
