using System;
using System.CommandLine;
using System.Linq;
using Spectre.Console;

namespace PrecisionPolicy.Samples.Addition;

/// <summary>`addition plan`: bytes per role for a parameter count and precision, plus activations.</summary>
public static class PlanCommand
{
    public static Command Create()
    {
        var parameters = new Option<double>("--parameters") { Description = "Model parameters (e.g. 7e9).", DefaultValueFactory = _ => 7e9 };
        var precision = new Option<Precision>("--precision") { Description = "FP32, BF16, FP16 or FP8.", DefaultValueFactory = _ => Precision.BF16 };
        var batch = new Option<long>("--batch") { Description = "Sequences per step (activations).", DefaultValueFactory = _ => 1 };
        var sequence = new Option<long>("--sequence") { Description = "Tokens per sequence.", DefaultValueFactory = _ => 2048 };
        var hidden = new Option<long>("--hidden") { Description = "Model width.", DefaultValueFactory = _ => 4096 };
        var layers = new Option<long>("--layers") { Description = "Transformer blocks.", DefaultValueFactory = _ => 32 };
        var heads = new Option<long>("--heads") { Description = "Attention heads.", DefaultValueFactory = _ => 32 };
        var command = new Command("plan", "Print the memory plan of mixed-precision training (default: the 7B table).");
        foreach (var option in new Option[] { parameters, precision, batch, sequence, hidden, layers, heads })
            command.Options.Add(option);

        command.SetAction(parse =>
        {
            var shape = new ActivationShape(parse.GetValue(batch), parse.GetValue(sequence), parse.GetValue(hidden), parse.GetValue(layers), parse.GetValue(heads));
            try
            {
                var count = parse.GetValue(parameters);
                AnsiConsole.Write(Table($"{count:G3} parameters, FP32", MemoryPlan.For(count, Precision.FP32, shape)));
                AnsiConsole.Write(Table($"{count:G3} parameters, {parse.GetValue(precision)} mixed precision", MemoryPlan.For(count, parse.GetValue(precision), shape)));
                return 0;
            }
            catch (ArgumentOutOfRangeException e)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]{e.Message}[/]");
                return 2;
            }
        });
        return command;
    }

    private static Table Table(string title, System.Collections.Generic.IReadOnlyList<MemoryPlanLine> plan)
    {
        var table = new Table().Title(title).AddColumns("role", "bytes/param", "GB", "why");
        foreach (var line in plan)
            table.AddRow(line.Role, line.BytesPerParameter == 0 ? "" : line.BytesPerParameter.ToString("G3"), (line.Bytes / 1e9).ToString("F1"), line.Note);
        var weightState = plan.Where(l => l.BytesPerParameter > 0).Sum(l => l.Bytes);
        table.AddRow("[bold]weights + grads + state[/]", "", $"[bold]{weightState / 1e9:F1}[/]", "");
        table.AddRow("[bold]total[/]", "", $"[bold]{MemoryPlan.Total(plan) / 1e9:F1}[/]", "");
        return table;
    }
}
