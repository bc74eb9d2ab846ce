using System;
using System.Linq;
using PrecisionPolicy.Casting;
using PrecisionPolicy.Fp8;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Fp8;

public sealed class Fp8QuantizerTests(ITestOutputHelper output)
{
    private static float[] RoundTrip(float[] values, Fp8Format format, out long saturated)
    {
        using var scope = NewDisposeScope();
        using var x = tensor(values);
        var amax = values.Select(MathF.Abs).Max();
        using var q = Fp8Quantizer.QuantizeDequantize(x, 1f, format, amax, out saturated);
        return q.data<float>().ToArray();
    }

    [Fact]
    public void Libtorch_turns_an_out_of_range_e4m3_cast_into_nan_which_is_why_values_are_clamped_first()
    {
        using var x = tensor(new[] { 500f });
        using var cast = x.to(AutocastDtypes.Float8E4M3).to(ScalarType.Float32);
        Assert.True(float.IsNaN(cast.item<float>()));
    }

    [Theory]
    [InlineData(Fp8Format.E4M3, 448f)]
    [InlineData(Fp8Format.E5M2, 57344f)]
    public void Format_max_round_trips_exactly_and_larger_values_saturate_to_it(Fp8Format format, float max)
    {
        var values = new[] { max, -max, max * 1.2f, -10 * max, float.PositiveInfinity, float.NegativeInfinity };
        var back = RoundTrip(values, format, out var saturated);
        Assert.Equal(new[] { max, -max, max, -max, max, -max }, back);
        Assert.Equal(4, saturated);
    }

    [Theory]
    [InlineData(Fp8Format.E4M3, 448f, 464f)]      // top spacing 32: 464 is the tie, rounding to even gives 448
    [InlineData(Fp8Format.E5M2, 57344f, 61440f)]  // top spacing 8192
    public void Values_within_rounding_distance_of_max_give_max_but_are_not_saturations(Fp8Format format, float max, float threshold)
    {
        var back = RoundTrip(new[] { MathF.BitIncrement(max), threshold, MathF.BitIncrement(threshold) }, format, out var saturated);
        Assert.Equal(new[] { max, max, max }, back);
        Assert.Equal(1, saturated);
    }

    [Fact]
    public void Nan_stays_nan_and_is_not_a_saturation()
    {
        var back = RoundTrip(new[] { float.NaN, 1f }, Fp8Format.E4M3, out var saturated);
        Assert.True(float.IsNaN(back[0]));
        Assert.Equal(1f, back[1]);
        Assert.Equal(0, saturated);
    }

    [Theory]
    [InlineData(Fp8Format.E4M3, -9, 7)]   // E4M3 subnormals: k × 2^-9, k = 1..7 (min normal 2^-6)
    [InlineData(Fp8Format.E5M2, -16, 3)]  // E5M2 subnormals: k × 2^-16, k = 1..3 (min normal 2^-14)
    public void Subnormals_round_trip_exactly(Fp8Format format, int minExponent, int count)
    {
        var values = Enumerable.Range(1, count).Select(k => k * MathF.ScaleB(1f, minExponent)).ToArray();
        Assert.Equal(values, RoundTrip(values, format, out _));
        // Half the smallest subnormal rounds to zero (ties to even), a bit more rounds up to it.
        var tiny = MathF.ScaleB(1f, minExponent);
        Assert.Equal(new[] { 0f, tiny }, RoundTrip(new[] { tiny / 2, tiny * 0.51f }, format, out _));
    }

    [Theory]
    [InlineData(Fp8Format.E4M3, -6, 448f, 4)]    // 3 mantissa bits: half an ulp is 2^-4 relative
    [InlineData(Fp8Format.E5M2, -14, 57344f, 3)] // 2 mantissa bits: 2^-3
    public void Normal_values_have_relative_error_at_most_half_an_ulp(Fp8Format format, int minNormalExponent, float max, int boundExponent)
    {
        var lo = MathF.ScaleB(1f, minNormalExponent);
        const int n = 200_000;
        var values = Enumerable.Range(0, n).Select(i => lo * MathF.Pow(max / lo, i / (float)(n - 1))).ToArray();
        var back = RoundTrip(values, format, out var saturated);
        var worst = values.Zip(back, (v, q) => MathF.Abs(q - v) / v).Max();
        output.WriteLine($"{format}: max relative round-trip error {worst:E4} over {n} normal values (bound 2^-{boundExponent} = {MathF.ScaleB(1f, -boundExponent):E4})");
        Assert.Equal(0, saturated);
        Assert.True(worst <= MathF.ScaleB(1f, -boundExponent), $"worst {worst}");
        // The worst case is a tie just above a power of two: u / (1 + u) with u = 2^-bound.
        var u = MathF.ScaleB(1f, -boundExponent);
        Assert.True(worst > 0.99f * u / (1 + u), $"the sweep should reach the worst case u/(1+u), worst {worst}");
    }

    [Fact]
    public void Scale_is_applied_before_rounding_and_removed_after()
    {
        // 0.3 × 2^4 = 4.8 → 5 in E4M3 (spacing 0.5 in [4, 8)) → 5 / 16 = 0.3125.
        using var x = tensor(new[] { 0.3f });
        using var q = Fp8Quantizer.QuantizeDequantize(x, 16f, Fp8Format.E4M3, 0.3f, out _);
        Assert.Equal(0.3125f, q.item<float>());
    }
}
