using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PrecisionPolicy.Tracing;

public static partial class NumericsTrace
{
    /// <summary>The advice file's name the analyzers look for among a project's AdditionalFiles.</summary>
    public const string AdviceFileName = "precision-advice.json";

    /// <summary>The gradient or input underflow fraction from which a low-precision site is advised about.</summary>
    public const double DefaultUnderflowAdvice = 0.25;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        // An amax can be inf or NaN: written as "Infinity"/"NaN" rather than failing.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Writes the run's summary and every report as JSON (takes a report of the open window first).</summary>
    public static void WriteJson(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var summary = Summary();
        var document = new { steps = Step - 1, reportEvery = ReportEvery, summary, reports = Reports };
        File.WriteAllText(path, JsonSerializer.Serialize(document, Json));
    }

    /// <summary>
    /// The findings an IDE can show at each site (<see cref="AdviceFileName"/> as an AdditionalFile) among
    /// <paramref name="sites"/> (a <see cref="Summary"/>): low-precision sites whose outputs went non-finite or
    /// whose inputs or gradients overflowed the dtype, and those where at least <paramref name="underflowAdvice"/>
    /// of the gradients or inputs underflowed.
    /// </summary>
    public static IReadOnlyList<PrecisionAdvice> Advice(IEnumerable<SiteNumerics> sites, double underflowAdvice = DefaultUnderflowAdvice)
    {
        ArgumentNullException.ThrowIfNull(sites);
        if (!(underflowAdvice > 0 && underflowAdvice <= 1)) throw new ArgumentOutOfRangeException(nameof(underflowAdvice), underflowAdvice, "a fraction in (0, 1]");
        var advice = new List<PrecisionAdvice>();
        foreach (var s in sites.Where(static s => s.Dtype != "FP32"))
        {
            // Where an overflow starts: inputs beyond the dtype, or inf/NaN out of finite inputs. A site fed inf/NaN
            // by an earlier one only passes it on.
            if (s.InputOverflow > 0 || (s.NonFiniteOutputs > 0 && double.IsFinite(s.InputAmax)))
            {
                var amax = s.InputOverflow > 0 ? s.InputAmax : s.OutputAmax;
                advice.Add(Finding(s, PrecisionAdvice.Overflow, amax, s.InputOverflow));
            }
            else if (s.GradientOverflow > 0)
            {
                advice.Add(Finding(s, PrecisionAdvice.GradientOverflow, s.GradientAmax, s.GradientOverflow));
            }
            if (s.GradientUnderflow >= underflowAdvice) advice.Add(Finding(s, PrecisionAdvice.GradientUnderflow, s.GradientAmax, s.GradientUnderflow));
            else if (s.InputUnderflow >= underflowAdvice) advice.Add(Finding(s, PrecisionAdvice.InputUnderflow, s.InputAmax, s.InputUnderflow));
        }
        return advice;
    }

    /// <summary>
    /// Writes the <see cref="Advice"/> of <paramref name="sites"/> (by default this run's <see cref="Summary"/>) to
    /// <paramref name="path"/>, conventionally <see cref="AdviceFileName"/>.
    /// </summary>
    public static void WriteAdvice(string path, IEnumerable<SiteNumerics>? sites = null, double underflowAdvice = DefaultUnderflowAdvice)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var document = new { version = 1, sites = Advice(sites ?? Summary(), underflowAdvice) };
        File.WriteAllText(path, JsonSerializer.Serialize(document, Json));
    }

    private static PrecisionAdvice Finding(SiteNumerics s, string finding, double amax, double fraction) =>
        new(s.File, s.Line, s.Column, s.Op, finding, s.Dtype, Number(amax), Math.Round(fraction, 4));
}

/// <summary>One finding of the numerics trace at one call site, as the advice file holds it.</summary>
/// <param name="File">The source file as the compilation named it.</param>
/// <param name="Line">1-based line.</param>
/// <param name="Column">1-based column.</param>
/// <param name="Op">The catalogue row.</param>
/// <param name="Finding">One of <see cref="Overflow"/>, <see cref="GradientOverflow"/>, <see cref="GradientUnderflow"/>, <see cref="InputUnderflow"/>.</param>
/// <param name="Dtype">The site's dtype ("FP16", "BF16").</param>
/// <param name="Amax">The amax behind the finding, as text (7.1e4, inf).</param>
/// <param name="Fraction">The fraction of values behind the finding.</param>
public sealed record PrecisionAdvice(string File, int Line, int Column, string Op, string Finding, string Dtype, string Amax, double Fraction)
{
    /// <summary>A forward output went inf/NaN or inputs exceeded the dtype's range.</summary>
    public const string Overflow = "overflow";

    /// <summary>Gradients at the site's output exceeded the dtype's range.</summary>
    public const string GradientOverflow = "gradient-overflow";

    /// <summary>Gradients at the site's output were 0 or subnormal in the dtype.</summary>
    public const string GradientUnderflow = "gradient-underflow";

    /// <summary>Inputs became subnormal or 0 when cast to the dtype.</summary>
    public const string InputUnderflow = "input-underflow";
}
