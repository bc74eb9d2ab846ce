using PrecisionPolicy.Casting;
using Xunit;

namespace PrecisionPolicy.IntegrationTests;

/// <summary>Each GEMM mode: <c>[ClassData(typeof(EachGemmMode))]</c>.</summary>
public sealed class EachGemmMode : TheoryData<GemmMode>
{
    public EachGemmMode()
    {
        Add(GemmMode.Native);
        Add(GemmMode.Fp32Accumulate);
    }
}

/// <summary>Each 16-bit precision under each GEMM mode: <c>[ClassData(typeof(LowPrecisionsInEachGemmMode))]</c>.</summary>
public sealed class LowPrecisionsInEachGemmMode : TheoryData<Precision, GemmMode>
{
    public LowPrecisionsInEachGemmMode()
    {
        foreach (var precision in new[] { Precision.BF16, Precision.FP16 })
        {
            Add(precision, GemmMode.Native);
            Add(precision, GemmMode.Fp32Accumulate);
        }
    }
}
