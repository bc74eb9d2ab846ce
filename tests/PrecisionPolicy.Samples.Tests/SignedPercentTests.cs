using System.Globalization;
using PrecisionPolicy.Samples.Addition.Reporting;
using Xunit;

namespace PrecisionPolicy.Samples.Tests;

/// <summary>The relative change beside each final loss in the results table.</summary>
public sealed class SignedPercentTests
{
    [Theory]
    [InlineData(0.0123, "+1.2%")]
    [InlineData(-0.0456, "-4.6%")]
    [InlineData(-0.25, "-25.0%")]
    [InlineData(0.0, "0.0%")]
    [InlineData(0.00049, "0.0%")]
    [InlineData(-0.00001, "0.0%")] // printed "(-+0.0%)" before
    public void A_change_has_one_sign_and_none_when_it_rounds_to_zero(double fraction, string expected) =>
        Assert.Equal(expected, SignedPercent.Format(fraction));

    [Fact]
    public void The_decimal_point_does_not_follow_the_current_culture()
    {
        var previous = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
        try
        {
            Assert.Equal("-1.5%", SignedPercent.Format(-0.015));
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }
}
