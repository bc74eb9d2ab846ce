using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy.Samples.Addition.Training;
using ScottPlot;

namespace PrecisionPolicy.Samples.Addition.Reporting;

/// <summary>One PNG: training loss of every run on top, loss-scale history below.</summary>
public static class LossPlot
{
    public static void Save(IReadOnlyList<RunResult> results, string path)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        var losses = multiplot.GetPlot(0);
        var scales = multiplot.GetPlot(1);

        var palette = new ScottPlot.Palettes.Category10();
        foreach (var (r, index) in results.Select((r, i) => (r, i)))
        {
            var color = palette.GetColor(index); // one colour per run in both panels
            var steps = Enumerable.Range(1, r.Losses.Count).Select(i => (double)i).ToArray();
            var loss = losses.Add.ScatterLine(steps, r.Losses.Select(l => double.IsFinite(l) ? l : double.NaN).ToArray());
            loss.LegendText = r.Name;
            loss.Color = color;
            if (r.LossScaling != "Off")
            {
                var scale = scales.Add.ScatterLine(steps, r.Scales.Select(s => System.Math.Log2(s)).ToArray());
                scale.LegendText = r.Name;
                scale.Color = color;
            }
        }
        losses.Title("Training loss");
        losses.XLabel("step");
        losses.YLabel("cross-entropy");
        losses.ShowLegend();
        scales.Title("Loss scale");
        scales.XLabel("step");
        scales.YLabel("log2(scale)");
        scales.ShowLegend();
        multiplot.SavePng(path, 900, 900);
    }
}
