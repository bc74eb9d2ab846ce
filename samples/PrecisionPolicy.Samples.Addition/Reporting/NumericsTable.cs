using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy.Samples.Addition.Training;
using PrecisionPolicy.Tracing;
using Spectre.Console;

namespace PrecisionPolicy.Samples.Addition.Reporting;

/// <summary>`--trace-numerics`: the call sites closest to leaving their dtype's range, over all runs.</summary>
public static class NumericsTable
{
    /// <summary>Rows shown: the worst sites first.</summary>
    public const int Rows = 12;

    public static Table Build(IReadOnlyList<RunResult> results)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]Numerics trace: the worst call sites[/]");
        foreach (var column in new[] { "run", "site", "op", "dtype", "calls", "input amax", "input overflow", "output inf/NaN", "gradient amax", "gradient underflow", "first inf/NaN" })
            table.AddColumn(column == "run" || column == "site" || column == "op" ? new TableColumn(column) : new TableColumn(column).RightAligned());
        foreach (var (run, site) in Worst(results).Take(Rows))
        {
            table.AddRow(
                Markup.Escape(run), Markup.Escape(site.Location), Markup.Escape(site.Op), site.Dtype, site.Calls.ToString(),
                Amax(site.InputAmax), Percent(site.InputOverflow), site.NonFiniteOutputs.ToString(), Amax(site.GradientAmax),
                Percent(site.GradientUnderflow), site.FirstNonFiniteStep is { } step ? $"step {step}" : "-");
        }
        return table;
    }

    /// <summary>Sites by how badly they fared: inf/NaN first, then overflow, then gradient underflow; low-precision sites before FP32 ones.</summary>
    public static IEnumerable<(string Run, SiteNumerics Site)> Worst(IReadOnlyList<RunResult> results) =>
        results.SelectMany(r => (r.Numerics ?? []).Select(s => (Run: r.Name, Site: s)))
            .OrderByDescending(p => p.Site.FirstNonFiniteStep is null ? 0 : 1)
            .ThenByDescending(p => p.Site.Dtype == "FP32" ? 0 : 1)
            .ThenByDescending(p => p.Site.InputOverflow + p.Site.GradientOverflow)
            .ThenByDescending(p => p.Site.GradientUnderflow)
            .ThenBy(p => p.Run)
            .ThenBy(p => p.Site.Location);

    private static string Amax(double value) =>
        double.IsNaN(value) ? "NaN" : double.IsInfinity(value) ? "inf" : value.ToString("0.##e0");

    private static string Percent(double fraction) => fraction == 0 ? "0" : fraction.ToString("P1");
}
