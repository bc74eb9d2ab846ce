using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy.Samples.Addition.Training;
using ScottPlot;

namespace PrecisionPolicy.Samples.Addition.Reporting;

/// <summary>
/// `--failure-modes`: one PNG, a panel per failure with the training loss of the run that shows it
/// (red) and of the run with the recipe's fix (green), over the FP32 reference as a pale band when it
/// ran. A run that diverged stops where its loss went non-finite. Runs that count lost updates get a
/// second panel with the share lost at every step: the failure the loss alone may not show.
/// </summary>
public static class FailureModesPlot
{
    private const int ImageWidth = 1000, PanelHeight = 380;

    /// <summary>Title of the lost-updates panel below a failure's loss panel.</summary>
    public const string LostUpdatesTitle = "share of the nonzero-gradient elements each step left unchanged";

    public static void Save(IReadOnlyList<RunResult> results, RunResult? reference, string path)
    {
        var multiplot = Build(results, reference);
        multiplot.SavePng(path, ImageWidth, PanelHeight * multiplot.Count());
    }

    /// <summary>The panels, top to bottom: each failure's loss, and below it its lost updates when its runs count them.</summary>
    public static Multiplot Build(IReadOnlyList<RunResult> results, RunResult? reference)
    {
        var multiplot = new Multiplot(); // starts with one empty plot: the first panel
        var panels = 0;
        Plot Panel() => panels++ == 0 ? multiplot.GetPlot(0) : multiplot.AddPlot();
        foreach (var mode in results.Where(r => r.FailureMode is not null).GroupBy(r => r.FailureMode!))
        {
            var runs = mode.ToArray(); // the failing run comes first
            var title = $"{mode.Key}: {string.Join(" vs ", runs.Select(r => r.Name))}";
            var losses = Panel();
            if (reference is not null) Line(losses, reference, Colors.Gray.WithAlpha(0.4), 9);
            for (var j = 0; j < runs.Length; j++)
                Line(losses, runs[j], RunColor(j), RunWidth(j));
            Label(losses, title, "cross-entropy");

            if (runs.All(r => r.LostUpdateFractionPerStep is null)) continue;
            var lost = Panel();
            for (var j = 0; j < runs.Length; j++)
            {
                if (runs[j].LostUpdateFractionPerStep is not { } perStep) continue;
                var line = lost.Add.ScatterLine(Steps(perStep.Count), perStep.Select(f => 100 * f).ToArray());
                line.LegendText = $"{runs[j].Name} ({runs[j].LostUpdateFraction:P1} of all)";
                Style(line, RunColor(j), RunWidth(j));
            }
            Label(lost, $"{mode.Key}: {LostUpdatesTitle}", "% lost");
        }
        return multiplot;
    }

    private static Color RunColor(int index) => index == 0 ? Colors.Red : Colors.Green;

    private static float RunWidth(int index) => index == 0 ? 3 : 2;

    private static double[] Steps(int count) => Enumerable.Range(1, count).Select(i => (double)i).ToArray();

    private static void Label(Plot plot, string title, string yLabel)
    {
        plot.Title(title);
        plot.XLabel("step");
        plot.YLabel(yLabel);
        plot.ShowLegend(Edge.Right);
    }

    private static void Style(ScottPlot.Plottables.Scatter line, Color color, float width)
    {
        line.MarkerSize = 0;
        line.LineWidth = width;
        line.Color = color;
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
        var line = plot.Add.ScatterLine(Steps(finite), run.Losses.Take(finite).ToArray());
        line.LegendText = label;
        Style(line, color, width);
    }
}
