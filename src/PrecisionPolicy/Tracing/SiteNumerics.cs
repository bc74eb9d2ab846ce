using System.Collections.Generic;

namespace PrecisionPolicy.Tracing;

/// <summary>What one intercepted call site saw over a report window (or, from <see cref="NumericsTrace.Summary"/>, the whole run).</summary>
/// <param name="File">The source file as the compilation named it.</param>
/// <param name="Line">1-based line of the call.</param>
/// <param name="Column">1-based column of the call's method name.</param>
/// <param name="Location"><c>path(line,col)</c>, relative to the working directory when under it.</param>
/// <param name="Op">The catalogue row, e.g. "torch.softmax".</param>
/// <param name="Region">The region or member policy of the site.</param>
/// <param name="Dtype">The dtype the site's inputs are cast to ("FP16", "BF16", "FP32"): underflow and overflow are counted against it.</param>
/// <param name="Calls">Forward calls.</param>
/// <param name="InputAmax">Largest |x| over the floating tensor inputs, before their cast.</param>
/// <param name="InputUnderflow">Fraction of input values that are nonzero and below the dtype's smallest normal: they become subnormal or 0 when cast.</param>
/// <param name="InputOverflow">Fraction of input values above the dtype's largest finite value (∞ included): they become ∞ when cast.</param>
/// <param name="OutputAmax">Largest |y| of the outputs.</param>
/// <param name="NonFiniteOutputs">Forward calls whose output held an inf or NaN.</param>
/// <param name="GradientCalls">Gradients that reached the site's output in backward.</param>
/// <param name="GradientAmax">Largest |g| of those gradients.</param>
/// <param name="GradientUnderflow">
/// Fraction of gradient values that are 0 or subnormal in the dtype. A low-precision gradient that underflowed is
/// already 0 when it arrives, so exact zeros count: the fraction is an upper bound on underflow.
/// </param>
/// <param name="GradientOverflow">Fraction of gradient values above the dtype's largest finite value (∞ included).</param>
/// <param name="FirstNonFiniteStep">The first step whose output or gradient at this site was inf/NaN, or null.</param>
public sealed record SiteNumerics(
    string File, int Line, int Column, string Location, string Op, string Region, string Dtype,
    long Calls, double InputAmax, double InputUnderflow, double InputOverflow, double OutputAmax, long NonFiniteOutputs,
    long GradientCalls, double GradientAmax, double GradientUnderflow, double GradientOverflow, int? FirstNonFiniteStep);

/// <summary>The statistics of every traced site over one report window.</summary>
/// <param name="FirstStep">The window's first step (1-based).</param>
/// <param name="LastStep">The window's last step.</param>
/// <param name="Sites">One entry per site that ran in the window, in the order the trace first saw them.</param>
public sealed record NumericsReport(int FirstStep, int LastStep, IReadOnlyList<SiteNumerics> Sites);
