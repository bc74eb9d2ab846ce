using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy.Samples.Addition.Training;
using ScottPlot;

namespace PrecisionPolicy.Samples.Addition.Reporting;

/// <summary>
/// One PNG: the training loss of every run; below it the loss-scale history, only when a run
/// scales its loss. Runs that train alike lie on top of each other, so each run is drawn narrower
/// than the one before it, in its own colour and dash pattern: the first run (the FP32 reference
/// by default) is a wide pale band, and every later line leaves the edges and gaps of the earlier
/// ones visible. The legend sits outside the data.
/// </summary>
public static class LossPlot
{
    private const int Width = 1000, PanelHeight = 450;

    // Line width and pattern by draw order, cycled for more runs.
    private static readonly (float Width, LinePattern Pattern)[] Styles =
    [
        (9, LinePattern.Solid), (5, LinePattern.Solid), (3, LinePattern.Dashed), (2, LinePattern.Dotted), (1, LinePattern.DenselyDashed),
    ];

    public static void Save(IReadOnlyList<RunResult> results, string path)
    {
        var scaled = results.Where(r => r.Scales is not null).ToArray();
        var multiplot = new Multiplot();
        multiplot.AddPlots(scaled.Length > 0 ? 2 : 1);

        var palette = new ScottPlot.Palettes.Category10();
        var losses = multiplot.GetPlot(0);
        foreach (var (r, index) in results.Select((r, i) => (r, i)))
            Style(losses.Add.ScatterLine(Steps(r.Losses.Count), r.Losses.Select(l => double.IsFinite(l) ? l : double.NaN).ToArray()), r, index, palette);
        losses.Title("Training loss");
        losses.XLabel("step");
        losses.YLabel("cross-entropy");
        losses.ShowLegend(Edge.Right);

        if (scaled.Length > 0)
        {
            var scales = multiplot.GetPlot(1);
            foreach (var r in scaled)
                Style(scales.Add.ScatterLine(Steps(r.Scales!.Count), r.Scales.Select(System.Math.Log2).ToArray()), r, IndexOf(results, r), palette);
            scales.Title("Loss scale (runs with loss scaling)");
            scales.XLabel("step");
            scales.YLabel("log2(scale)");
            scales.ShowLegend(Edge.Right);
        }
        multiplot.SavePng(path, Width, PanelHeight * (scaled.Length > 0 ? 2 : 1));
    }

    private static double[] Steps(int count) => Enumerable.Range(1, count).Select(i => (double)i).ToArray();

    private static int IndexOf(IReadOnlyList<RunResult> results, RunResult run) =>
        results.Select((r, i) => (r, i)).First(p => ReferenceEquals(p.r, run)).i;

    // One colour and style per run, the same in both panels.
    private static void Style(ScottPlot.Plottables.Scatter line, RunResult run, int index, IPalette palette)
    {
        var (width, pattern) = Styles[index % Styles.Length];
        line.LegendText = run.Interrupted ? $"{run.Name} (interrupted)" : run.Name;
        line.MarkerSize = 0;
        line.LineWidth = width;
        line.LinePattern = pattern;
        line.Color = palette.GetColor(index).WithAlpha(index == 0 ? 0.4 : 0.9);
    }
}
