using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy.Samples.Addition.Training;
using ScottPlot;

namespace PrecisionPolicy.Samples.Addition.Reporting;

/// <summary>
/// `--trace-numerics`: one PNG, per call site over the steps of each run: above, the fraction of
/// gradients that are 0 or subnormal in the site's dtype; below, the fraction of inputs and gradients
/// beyond its largest finite value. Only the worst sites are drawn, one colour per (run, site).
/// </summary>
public static class NumericsPlot
{
    private const int Width = 1100, PanelHeight = 420, Lines = 8;

    public static void Save(IReadOnlyList<RunResult> results, string path)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        var underflow = multiplot.GetPlot(0);
        var overflow = multiplot.GetPlot(1);
        var palette = new ScottPlot.Palettes.Category10();

        var chosen = NumericsTable.Worst(results).Take(Lines).ToArray();
        for (var i = 0; i < chosen.Length; i++)
        {
            var (run, site) = chosen[i];
            var points = results.First(r => r.Name == run).NumericsReports!
                .Select(report => (report.LastStep, Site: report.Sites.FirstOrDefault(s => s.Location == site.Location && s.Op == site.Op)))
                .Where(p => p.Site is not null)
                .ToArray();
            var steps = points.Select(p => (double)p.LastStep).ToArray();
            var label = $"{run}: {System.IO.Path.GetFileName(site.File)}({site.Line},{site.Column}) {site.Op}"; // short: the table has the paths
            Style(underflow.Add.ScatterLine(steps, points.Select(p => p.Site!.GradientUnderflow).ToArray()), label, palette.GetColor(i));
            Style(overflow.Add.ScatterLine(steps, points.Select(p => p.Site!.InputOverflow + p.Site!.GradientOverflow).ToArray()), label, palette.GetColor(i));
        }
        underflow.Title("Gradient underflow per call site (0 or subnormal in its dtype)");
        underflow.XLabel("step");
        underflow.YLabel("fraction of gradients");
        underflow.ShowLegend(Edge.Right);
        overflow.Title("Overflow per call site (inputs and gradients beyond its dtype's max)");
        overflow.XLabel("step");
        overflow.YLabel("fraction of values");
        overflow.ShowLegend(Edge.Right);
        multiplot.SavePng(path, Width, 2 * PanelHeight);
    }

    private static void Style(ScottPlot.Plottables.Scatter line, string label, Color color)
    {
        line.LegendText = label;
        line.MarkerSize = 4;
        line.LineWidth = 2;
        line.Color = color;
    }
}
