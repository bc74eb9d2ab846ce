using System;
using PrecisionPolicy.CompilerServices;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tracing;

/// <summary>A site's statistics as host numbers: counts, not fractions, so windows add up exactly into run totals.</summary>
internal sealed class SiteCounts
{
    public long Calls;
    public long InputElements;
    public double InputUnderflow;
    public double InputOverflow;
    public double InputAmax;
    public double OutputAmax;
    public long NonFiniteOutputs;
    public long GradientCalls;
    public long GradientElements;
    public double GradientAmax;
    public double GradientUnderflow;
    public double GradientOverflow;
    public double FirstNonFiniteStep = double.PositiveInfinity;

    /// <summary>A window's counts: the host counters of <paramref name="accumulator"/> and its device slots as read.</summary>
    public static SiteCounts Of(SiteAccumulator accumulator, ReadOnlySpan<double> slots) => new()
    {
        Calls = accumulator.Calls,
        InputElements = accumulator.InputElements,
        GradientCalls = accumulator.GradientCalls,
        GradientElements = accumulator.GradientElements,
        InputAmax = slots[0],
        InputUnderflow = slots[1],
        InputOverflow = slots[2],
        OutputAmax = slots[3],
        NonFiniteOutputs = (long)slots[4],
        GradientAmax = slots[5],
        GradientUnderflow = slots[6],
        GradientOverflow = slots[7],
        FirstNonFiniteStep = slots[8],
    };

    public void Add(SiteCounts window)
    {
        Calls += window.Calls;
        InputElements += window.InputElements;
        InputUnderflow += window.InputUnderflow;
        InputOverflow += window.InputOverflow;
        InputAmax = Max(InputAmax, window.InputAmax);
        OutputAmax = Max(OutputAmax, window.OutputAmax);
        NonFiniteOutputs += window.NonFiniteOutputs;
        GradientCalls += window.GradientCalls;
        GradientElements += window.GradientElements;
        GradientAmax = Max(GradientAmax, window.GradientAmax);
        GradientUnderflow += window.GradientUnderflow;
        GradientOverflow += window.GradientOverflow;
        FirstNonFiniteStep = Math.Min(FirstNonFiniteStep, window.FirstNonFiniteStep);
    }

    public SiteNumerics ToNumerics(NumericsSite site, ScalarType dtype) => new(
        site.File, site.Line, site.Column, site.Location, site.Op, site.Region, DtypeLimits.Of(dtype).Name,
        Calls, InputAmax, Fraction(InputUnderflow, InputElements), Fraction(InputOverflow, InputElements), OutputAmax, NonFiniteOutputs,
        GradientCalls, GradientAmax, Fraction(GradientUnderflow, GradientElements), Fraction(GradientOverflow, GradientElements),
        double.IsInfinity(FirstNonFiniteStep) ? null : (int)FirstNonFiniteStep);

    // Math.Max returns NaN when either is NaN: a NaN seen once stays visible.
    private static double Max(double a, double b) => Math.Max(a, b);

    private static double Fraction(double count, long elements) => elements == 0 ? 0 : count / elements;
}
