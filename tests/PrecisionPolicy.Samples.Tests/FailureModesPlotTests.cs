using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy.Samples.Addition.Reporting;
using PrecisionPolicy.Samples.Addition.Training;
using ScottPlot;
using ScottPlot.Plottables;
using Xunit;

namespace PrecisionPolicy.Samples.Tests;

/// <summary>failure-modes.png: a loss panel per failure, and a lost-updates panel below the failure whose runs count them.</summary>
public sealed class FailureModesPlotTests
{
    [Fact]
    public void The_lost_updates_failure_gets_a_panel_with_every_step_of_both_runs_and_the_others_do_not()
    {
        var runs = new[]
        {
            Run("inplace", "lost updates", [0.5, 0.25, 0.75]),
            Run("masters", "lost updates", [0, 0.001, 0]),
            Run("hot", "overflow", null),
            Run("cool", "overflow", null),
        };

        var panels = FailureModesPlot.Build(runs, reference: null).GetPlots();

        Assert.Equal(["lost updates: inplace vs masters", $"lost updates: {FailureModesPlot.LostUpdatesTitle}", "overflow: hot vs cool"],
            panels.Select(p => p.Axes.Title.Label.Text));
        var lines = panels[1].GetPlottables().OfType<Scatter>().Select(s => s.Data.GetScatterPoints()).ToArray();
        Assert.Equal(2, lines.Length);
        Assert.Equal([new(1, 50), new(2, 25), new(3, 75)], lines[0]);
        Assert.Equal([new(1, 0), new(2, 0.1), new(3, 0)], lines[1]);
    }

    private static RunResult Run(string name, string failureMode, IReadOnlyList<double>? lostPerStep) => new()
    {
        Name = name,
        Precision = "FP16",
        LossScaling = "Off",
        Losses = [2.0, 1.9, 1.8],
        Scales = null,
        FinalLoss = 1.8,
        HeldOutLoss = 1.8,
        ExactMatch = 0,
        MedianStepMilliseconds = 1,
        PeakTensorBytes = 0,
        BytesByRole = new Dictionary<string, long>(),
        SkippedSteps = 0,
        FinalScale = null,
        GradientZeroFraction = 0,
        Diverged = false,
        LostUpdateFraction = lostPerStep is null ? double.NaN : lostPerStep.Average(),
        LostUpdateFractionPerStep = lostPerStep,
        FailureMode = failureMode,
        Interrupted = false,
        GemmMode = "test",
    };
}
