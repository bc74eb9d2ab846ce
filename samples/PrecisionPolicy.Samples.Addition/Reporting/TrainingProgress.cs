using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using PrecisionPolicy.Samples.Addition.Training;
using Spectre.Console;
using static System.FormattableString;

namespace PrecisionPolicy.Samples.Addition.Reporting;

/// <summary>
/// Training progress: live bars on an interactive terminal; anywhere else (a file, a pipe, a CI
/// log) one plain line per run each time it passes another quarter of its steps, in order, with
/// nothing redrawn.
/// </summary>
public static class TrainingProgress
{
    /// <summary>Without a terminal, a run prints a line at every multiple of this share of its steps.</summary>
    public const int LinePercent = 25;

    /// <summary>Trains one run, reporting each finished step and its loss; null when stopped before the first step.</summary>
    public delegate RunResult? TrainRun(RunKind run, Action<int, double> progress);

    /// <summary>True when the console is a terminal that can redraw: then progress is live.</summary>
    public static bool IsLive(IAnsiConsole console) =>
        console.Profile.Out.IsTerminal && console.Profile.Capabilities.Interactive && console.Profile.Capabilities.Ansi;

    /// <summary>Trains the runs in order; stops after a run that returns null or was interrupted.</summary>
    public static List<RunResult> Train(IAnsiConsole console, IReadOnlyList<RunKind> runs, int steps, TrainRun train) =>
        IsLive(console) ? Live(console, runs, steps, train) : Lines(console, runs, steps, train);

    private static List<RunResult> Live(IAnsiConsole console, IReadOnlyList<RunKind> runs, int steps, TrainRun train)
    {
        var results = new List<RunResult>();
        console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var bars = runs.Select(r => context.AddTask(Markup.Escape(r.Name), autoStart: false, maxValue: steps)).ToArray();
                for (var i = 0; i < runs.Count; i++)
                {
                    var bar = bars[i];
                    var name = Markup.Escape(runs[i].Name);
                    bar.StartTask();
                    var result = train(runs[i], (step, loss) =>
                    {
                        bar.Value = step;
                        bar.Description = Invariant($"{name} loss {loss:F4}");
                    });
                    bar.StopTask();
                    if (result is null) break;
                    results.Add(result);
                    if (result.Interrupted) break;
                }
            });
        return results;
    }

    private static List<RunResult> Lines(IAnsiConsole console, IReadOnlyList<RunKind> runs, int steps, TrainRun train)
    {
        var results = new List<RunResult>();
        var nameWidth = runs.Max(r => r.Name.Length);
        for (var i = 0; i < runs.Count; i++)
        {
            var label = $"[{i + 1}/{runs.Count}] {runs[i].Name.PadRight(nameWidth)}";
            var clock = Stopwatch.StartNew();
            var next = LinePercent;
            var result = train(runs[i], (step, loss) =>
            {
                var percent = (int)(step * 100L / steps);
                if (percent < next) return;
                console.WriteLine(Invariant($"{label} {percent,3}%  step {step}/{steps}  loss {loss:F4}  {clock.Elapsed.TotalSeconds:F1} s"));
                next = (percent / LinePercent + 1) * LinePercent;
            });
            if (result is null) break;
            results.Add(result);
            if (result.Interrupted) break;
        }
        return results;
    }
}
