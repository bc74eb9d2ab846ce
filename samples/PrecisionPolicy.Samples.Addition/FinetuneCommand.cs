using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.Linq;
using PrecisionPolicy.Samples.Addition.Training;
using Spectre.Console;

namespace PrecisionPolicy.Samples.Addition;

/// <summary>
/// `addition finetune`: pre-train the GPT on addition in FP32, then fine-tune it on a + b + 1 as full BF16, BF16
/// LoRA and NF4 + LoRA (QLoRA); per run the held-out loss, the trainable parameters and the measured bytes.
/// </summary>
public static class FinetuneCommand
{
    public static Command Create()
    {
        var defaults = new FineTuneOptions();
        var seeds = new Option<string>("--seeds") { Description = "Comma-separated seeds; the table shows each and the median.", DefaultValueFactory = _ => "1,2,3" };
        var pretrainSteps = new Option<int>("--pretrain-steps") { Description = "FP32 pre-training steps on addition.", DefaultValueFactory = _ => defaults.PretrainSteps };
        var fineTuneSteps = new Option<int>("--finetune-steps") { Description = "Fine-tuning steps on a + b + 1.", DefaultValueFactory = _ => defaults.FineTuneSteps };
        var rank = new Option<int>("--lora-rank") { Description = "LoRA rank.", DefaultValueFactory = _ => defaults.Rank };
        var command = new Command("finetune", "Pre-train in FP32, then fine-tune on a shifted task: full BF16, BF16 LoRA, NF4 + LoRA (QLoRA).");
        foreach (var option in new Option[] { seeds, pretrainSteps, fineTuneSteps, rank }) command.Options.Add(option);
        command.SetAction(parse =>
        {
            int[] seedList;
            try
            {
                seedList = parse.GetValue(seeds)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
                if (seedList.Length == 0 || parse.GetValue(pretrainSteps) < 1 || parse.GetValue(fineTuneSteps) < 1 || parse.GetValue(rank) < 1)
                    throw new FormatException();
            }
            catch (FormatException)
            {
                AnsiConsole.MarkupLine("[red]--seeds must be comma-separated integers; --pretrain-steps, --finetune-steps and --lora-rank must be >= 1.[/]");
                return 2;
            }
            var options = defaults with { PretrainSteps = parse.GetValue(pretrainSteps), FineTuneSteps = parse.GetValue(fineTuneSteps), Rank = parse.GetValue(rank) };
            var results = seedList.SelectMany(seed => FineTuner.Run(options with { Seed = seed }, Enum.GetValues<FineTuneKind>())).ToList();
            AnsiConsole.Write(Table(results));
            return 0;
        });
        return command;
    }

    internal static Table Table(IReadOnlyList<FineTuneResult> results)
    {
        var table = new Table().Title("Fine-tuning on a + b + 1 (held-out cross-entropy; median over seeds)")
            .AddColumns("run", "held-out loss per seed", "median", "before fine-tuning", "trainable params", "weight bytes", "optimizer bytes");
        foreach (var group in results.GroupBy(r => r.Kind))
        {
            var runs = group.ToList();
            table.AddRow(Name(group.Key),
                string.Join(" ", runs.Select(r => r.HeldOutLoss.ToString("F4", CultureInfo.InvariantCulture))),
                Median(runs.Select(r => r.HeldOutLoss)).ToString("F4", CultureInfo.InvariantCulture),
                Median(runs.Select(r => r.PretrainedLoss)).ToString("F4", CultureInfo.InvariantCulture),
                runs[0].TrainableParameters.ToString("N0", CultureInfo.InvariantCulture),
                runs[0].WeightBytes.ToString("N0", CultureInfo.InvariantCulture),
                runs[0].OptimizerBytes.ToString("N0", CultureInfo.InvariantCulture));
        }
        return table;
    }

    /// <summary>The middle value (mean of the two middle ones for an even count).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Name(FineTuneKind kind) => kind switch
    {
        FineTuneKind.FullBf16 => "full BF16",
        FineTuneKind.LoraBf16 => "BF16 LoRA",
        _ => "NF4 + LoRA (QLoRA)",
    };
}
