using System;
using System.Globalization;

namespace PrecisionPolicy.Samples.Addition.Reporting;

/// <summary>A relative change as the table prints it: "+1.2%", "-0.4%", and "0.0%" for anything that rounds to zero.</summary>
public static class SignedPercent
{
    public static string Format(double fraction)
    {
        // Round first, then choose the sign: a custom format's negative section prints "-+0.0%" for a
        // value that rounds to zero.
        var percent = Math.Round(fraction * 100, 1, MidpointRounding.AwayFromZero);
        if (percent == 0) return "0.0%";
        return (percent > 0 ? "+" : "-") + Math.Abs(percent).ToString("F1", CultureInfo.InvariantCulture) + "%";
    }
}
