using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy.Samples.Addition.Training;
using Spectre.Console;

namespace PrecisionPolicy.Samples.Addition.Reporting;

/// <summary>The final tables: one column per run, so the runs compare side by side.</summary>
public static class ResultsTable
{
    /// <summary>The precisions: losses, memory by role, gradients and scaling; losses compared with the fp32 run.</summary>
    public static Table Build(IReadOnlyList<RunResult> results, RunResult? reference)
    {
        var table = Columns("[bold]PrecisionPolicy: one model, several precisions[/]", results);

        Row("steps", r => r.Interrupted ? $"{r.Losses.Count} (interrupted)" : r.Losses.Count.ToString());
        Row("final loss (mean of last 10%)", r => Loss(r.FinalLoss, reference));
        Row("held-out loss", r => r.HeldOutLoss.ToString("F4"));
        Row("exact match (held-out)", r => r.ExactMatch.ToString("P1"));
        Row("median step", r => $"{r.MedianStepMilliseconds:F1} ms");
        Row("peak tensor memory", r => Bytes(r.PeakTensorBytes));
        var memoryVsFp32 = PeakMemoryRatio.Of(results);
        if (memoryVsFp32.Count > 0) Row("peak memory vs fp32", r => memoryVsFp32.TryGetValue(r.Name, out var ratio) ? $"{ratio:F2}×" : "n/a");
        foreach (var role in results.First().BytesByRole.Keys)
            Row(role, r => Bytes(r.BytesByRole[role]));
        Row("zero gradients (mean)", r => ZeroGradients(r, reference));
        if (results.Any(r => double.IsFinite(r.LostUpdateFraction))) Row("lost updates", r => LostUpdates(r));
        Row("skipped steps", r => r.SkippedSteps.ToString());
        Row("final loss scale", r => r.FinalScale is { } scale ? scale.ToString("G6") : "off");
        Row("diverged", r => r.Diverged ? "[red]yes[/]" : "no");
        return table;

        void Row(string label, Func<RunResult, string> cell) => AddRow(table, label, results, cell);
    }

    /// <summary>`--failure-modes`: each failure beside the run with the recipe's fix; losses compared with the fp32 run when it ran.</summary>
    public static Table BuildFailureModes(IReadOnlyList<RunResult> results, RunResult? reference)
    {
        var table = Columns("[bold]Why each technique exists: the failure, and the recipe's fix[/]", results);
        Row("shows", r => Markup.Escape(r.FailureMode ?? ""));
        Row("steps", r => r.Interrupted ? $"{r.Losses.Count} (interrupted)" : r.Losses.Count.ToString());
        Row("final loss (mean of last 10%)", r => Loss(r.FinalLoss, reference));
        Row("held-out loss", r => r.HeldOutLoss.ToString("F4"));
        Row("exact match (held-out)", r => r.ExactMatch.ToString("P1"));
        Row("zero gradients (mean)", r => ZeroGradients(r, reference));
        Row("lost updates", r => LostUpdates(r));
        Row("skipped steps", r => r.SkippedSteps.ToString());
        Row("final loss scale", r => r.FinalScale is { } scale ? scale.ToString("G6") : "off");
        Row("diverged", r => r.Diverged ? "[red]yes[/]" : "no");
        return table;

        void Row(string label, Func<RunResult, string> cell) => AddRow(table, label, results, cell);
    }

    private static Table Columns(string title, IReadOnlyList<RunResult> results)
    {
        var table = new Table().Border(TableBorder.Rounded).Title(title);
        table.AddColumn("");
        foreach (var r in results) table.AddColumn(new TableColumn($"[bold]{Markup.Escape(r.Name)}[/]").RightAligned());
        return table;
    }

    private static void AddRow(Table table, string label, IReadOnlyList<RunResult> results, Func<RunResult, string> cell) =>
        table.AddRow(new[] { label }.Concat(results.Select(cell)).ToArray());

    // Updates rounded away (w + lr·g == w): FP16 weights without FP32 masters lose them.
    private static string LostUpdates(RunResult r)
    {
        if (!double.IsFinite(r.LostUpdateFraction)) return "n/a";
        var text = r.LostUpdateFraction.ToString("P2");
        return r.LostUpdateFraction >= 0.01 ? $"[red]{text}[/]" : text;
    }

    private static string Loss(double loss, RunResult? reference)
    {
        if (!double.IsFinite(loss)) return "[red]NaN[/]";
        if (reference is null || reference.FinalLoss == 0) return loss.ToString("F4");
        var relative = (loss - reference.FinalLoss) / reference.FinalLoss;
        var color = relative <= 0.02 ? "green" : "red"; // ending below FP32 is no failure
        return $"{loss:F4} [{color}]({SignedPercent.Format(relative)})[/]";
    }

    /// <summary>
    /// The GEMM mode of each run, runs that share one on one line: below the table rather than in
    /// it, where the explanations would make every column as wide as the longest.
    /// </summary>
    public static IEnumerable<string> GemmModes(IReadOnlyList<RunResult> results) =>
        results.GroupBy(r => r.GemmMode).Select(g => $"GEMM mode of {string.Join(", ", g.Select(r => r.Name))}: {g.Key}");

    // FP16 without loss scaling flushes small gradients to zero: more zeros than the FP32 run is underflow.
    private static string ZeroGradients(RunResult r, RunResult? reference)
    {
        if (!double.IsFinite(r.GradientZeroFraction)) return "n/a";
        var text = r.GradientZeroFraction.ToString("P2");
        return reference is not null && r.GradientZeroFraction > reference.GradientZeroFraction + 1e-4 ? $"[red]{text} underflow[/]" : text;
    }

    private static string Bytes(long bytes) => bytes switch
    {
        >= 1 << 30 => $"{bytes / (double)(1 << 30):F2} GiB",
        >= 1 << 20 => $"{bytes / (double)(1 << 20):F2} MiB",
        >= 1 << 10 => $"{bytes / 1024.0:F1} KiB",
        _ => $"{bytes} B",
    };
}
