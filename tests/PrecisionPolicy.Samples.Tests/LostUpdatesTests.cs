using PrecisionPolicy.Samples.Addition.Training;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Samples.Tests;

/// <summary>The lost-update count: w + lr·g == w, bit for bit, over the elements whose gradient is nonzero.</summary>
public sealed class LostUpdatesTests
{
    [Theory]
    [InlineData(ScalarType.Float16, 2.0 / 3)] // 1 - 1e-4 rounds back to 1 (FP16 spacing below 1 is 2^-11)
    [InlineData(ScalarType.Float32, 0.0)]
    public void An_update_below_half_the_spacing_of_the_weight_is_lost_in_fp16_and_kept_in_fp32(ScalarType dtype, double expected)
    {
        using var lost = new LostUpdates();
        using var scope = NewDisposeScope();
        var weight = ones(4, dtype);
        var gradient = tensor(new[] { 1e-2f, 1e-4f, 0f, 1e-4f }).to(dtype); // the zero gradient is not counted

        var snapshot = LostUpdates.Before([(weight, gradient)]);
        weight.sub_(gradient);
        lost.After(snapshot, applied: true);
        // A skipped step counts nothing.
        lost.After(LostUpdates.Before([(weight, gradient)]), applied: false);

        Assert.Equal(expected, lost.Fraction, 15);
    }

    [Fact]
    public void Each_step_has_its_own_fraction_and_a_skipped_step_none()
    {
        using var lost = new LostUpdates();
        using var scope = NewDisposeScope();
        var weight = ones(4, ScalarType.Float16);
        var gradient = tensor(new[] { 1e-2f, 1e-4f, 0f, 1e-4f }).to(ScalarType.Float16);

        var first = LostUpdates.Before([(weight, gradient)]);
        weight.sub_(gradient); // 2 of 3 lost, as above
        lost.After(first, applied: true);
        lost.After(LostUpdates.Before([(weight, gradient)]), applied: false);
        var third = LostUpdates.Before([(weight, gradient.mul(100))]);
        weight.sub_(gradient.mul(100)); // 1 and 1e-2 are far above half the spacing: none lost
        lost.After(third, applied: true);

        Assert.Equal([2.0 / 3, double.NaN, 0.0], lost.PerStep);
        Assert.Equal(2.0 / 6, lost.Fraction, 15);
    }

    [Fact]
    public void No_applied_step_is_no_fraction()
    {
        using var lost = new LostUpdates();
        Assert.True(double.IsNaN(lost.Fraction));
        Assert.Empty(lost.PerStep);
    }
}
