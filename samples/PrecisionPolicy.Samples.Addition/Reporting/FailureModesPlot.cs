using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy.Samples.Addition.Training;
using ScottPlot;

namespace PrecisionPolicy.Samples.Addition.Reporting;

/// <summary>
/// `--failure-modes`: one PNG, a panel per failure with the training loss of the run that shows it
/// (red) and of the run with the recipe's fix (green), over the FP32 reference as a pale band when it
/// ran. A run that diverged stops where its loss went non-finite.
/// </summary>
public static class FailureModesPlot
{
    private const int Width = 1000, PanelHeight = 380;

    public static void Save(IReadOnlyList<RunResult> results, RunResult? reference, string path)
    {
        var modes = results.Where(r => r.FailureMode is not null).GroupBy(r => r.FailureMode!).ToArray();
        var multiplot = new Multiplot();
        multiplot.AddPlots(modes.Length);
        for (var i = 0; i < modes.Length; i++)
        {
            var plot = multiplot.GetPlot(i);
            if (reference is not null) Line(plot, reference, Colors.Gray.WithAlpha(0.4), 9);
            var runs = modes[i].ToArray();
            for (var j = 0; j < runs.Length; j++)
                Line(plot, runs[j], j == 0 ? Colors.Red : Colors.Green, j == 0 ? 3 : 2); // the failing run comes first
            plot.Title($"{modes[i].Key}: {string.Join(" vs ", runs.Select(r => r.Name))}");
            plot.XLabel("step");
            plot.YLabel("cross-entropy");
            plot.ShowLegend(Edge.Right);
        }
        multiplot.SavePng(path, Width, PanelHeight * modes.Length);
    }

    private static void Line(Plot plot, RunResult run, Color color, float width)
    {
        var firstNonFinite = run.Losses.Select((l, i) => (l, i)).FirstOrDefault(p => !double.IsFinite(p.l), (0, -1)).Item2;
        var finite = firstNonFinite < 0 ? run.Losses.Count : firstNonFinite;
        var label = firstNonFinite < 0 ? run.Name : $"{run.Name} (loss NaN from step {firstNonFinite + 1}{(run.Diverged ? $", stopped at {run.Losses.Count}" : "")})";
        if (finite == 0)
        {
            // Nothing to draw: a line where the run stopped says so.
            var stop = plot.Add.VerticalLine(run.Losses.Count, width, color);
            stop.LegendText = label;
            return;
        }
        var line = plot.Add.ScatterLine(Enumerable.Range(1, finite).Select(i => (double)i).ToArray(), run.Losses.Take(finite).ToArray());
        line.LegendText = label;
        line.MarkerSize = 0;
        line.LineWidth = width;
        line.Color = color;
    }
}
