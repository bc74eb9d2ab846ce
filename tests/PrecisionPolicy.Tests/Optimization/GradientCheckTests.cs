using System;
using System.Linq;
using PrecisionPolicy.Optimization;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Optimization;

public sealed class GradientCheckTests
{
    [Fact]
    public void Ordinary_gradients_give_the_fp32_norm()
    {
        using var g = tensor(new[] { 3f, -4f, 0f, 12f });
        Assert.Equal((true, 13.0), GradientCheck.FiniteNorm(g));
    }

    [Fact]
    public void Finite_values_near_the_fp32_maximum_are_finite_and_their_norm_is_exact_in_float64()
    {
        // Each square overflows FP32 (3e38^2 = 9e76); the values themselves are finite.
        var values = Enumerable.Repeat(float.MaxValue, 1000).Append(-3e38f).ToArray();
        using var g = tensor(values);
        var (finite, norm) = GradientCheck.FiniteNorm(g);
        Assert.True(finite);
        var expected = Math.Sqrt(1000.0 * float.MaxValue * (double)float.MaxValue + 3e38f * (double)3e38f);
        Assert.Equal(expected, norm, expected * 1e-12);
    }

    [Theory]
    [InlineData(float.NaN, 0)]
    [InlineData(float.PositiveInfinity, 4095)]
    [InlineData(float.NegativeInfinity, 2048)]
    public void One_nan_or_inf_anywhere_is_not_finite(float bad, int at)
    {
        var values = Enumerable.Range(0, 4096).Select(i => (float)Math.Sin(i)).ToArray();
        values[at] = bad;
        using var g = tensor(values);
        var (finite, norm) = GradientCheck.FiniteNorm(g);
        Assert.False(finite);
        Assert.True(double.IsNaN(norm));
    }

    [Fact]
    public void One_inf_among_values_near_the_fp32_maximum_is_not_finite()
    {
        var values = Enumerable.Repeat(float.MaxValue, 64).ToArray();
        values[17] = float.PositiveInfinity;
        using var g = tensor(values);
        Assert.False(GradientCheck.FiniteNorm(g).Finite);
    }

    [Fact]
    public void A_step_with_huge_finite_gradients_is_applied_and_reports_their_norm()
    {
        using var p = new TorchSharp.Modules.Parameter(ones(4), requires_grad: true);
        using var opt = new MasterWeightOptimizer(new[] { ("p", p) }, ps => optim.SGD(ps, 0.0));
        using var huge = 1e30f.ToScalar();
        var outcome = opt.Step(p.mul(huge).sum()); // every gradient 1e30: squares overflow FP32
        Assert.True(outcome.Applied);
        Assert.Equal(2.0 * 1e30f, outcome.GradNorm, 2e30 * 1e-7);
    }
}
