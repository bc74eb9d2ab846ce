using System.Collections.Generic;
using System.CommandLine;
using System.Linq;
using System;
using PrecisionPolicy.Reports;
using Spectre.Console;

namespace PrecisionPolicy.Samples.Addition;

/// <summary>
/// `addition plan`: bytes per role for a parameter count and precision, plus activations; per GPU
/// under ZeRO (`--zero 1|2|3 --gpus N`) or FSDP (`--fsdp full-shard|shard-grad-op|no-shard`), and
/// for LoRA fine-tuning (`--lora-rank r`).
/// </summary>
public static class PlanCommand
{
    public static Command Create()
    {
        var parameters = new Option<double>("--parameters") { Description = "Model parameters (e.g. 7e9).", DefaultValueFactory = _ => 7e9 };
        var precision = new Option<Precision>("--precision") { Description = "FP32, BF16, FP16 or FP8.", DefaultValueFactory = _ => Precision.BF16 };
        var batch = new Option<long>("--batch") { Description = "Sequences per step, per GPU (activations).", DefaultValueFactory = _ => 1 };
        var sequence = new Option<long>("--sequence") { Description = "Tokens per sequence.", DefaultValueFactory = _ => 2048 };
        var hidden = new Option<long>("--hidden") { Description = "Model width.", DefaultValueFactory = _ => 4096 };
        var layers = new Option<long>("--layers") { Description = "Transformer blocks.", DefaultValueFactory = _ => 32 };
        var heads = new Option<long>("--heads") { Description = "Attention heads.", DefaultValueFactory = _ => 32 };
        var zero = new Option<int?>("--zero") { Description = "DeepSpeed ZeRO stage 0-3: print the per-GPU plan." };
        var fsdp = new Option<string?>("--fsdp") { Description = "FSDP sharding strategy: full-shard, shard-grad-op or no-shard: print the per-GPU plan." };
        var gpus = new Option<int>("--gpus") { Description = "Data-parallel GPUs for --zero / --fsdp.", DefaultValueFactory = _ => 8 };
        var loraRank = new Option<long?>("--lora-rank") { Description = "Also plan LoRA fine-tuning: rank-r adapters on the q, k, v, o projections of every block, base frozen." };
        var nf4 = new Option<bool>("--nf4") { Description = "With --lora-rank, also plan QLoRA: the frozen base in NF4 (4.127 bits/param), adapters trained with FP32 masters and state." };
        var command = new Command("plan", "Print the memory plan of mixed-precision training (default: the 7B table).");
        foreach (var option in new Option[] { parameters, precision, batch, sequence, hidden, layers, heads, zero, fsdp, gpus, loraRank, nf4 })
            command.Options.Add(option);

        command.SetAction(parse =>
        {
            var shape = new ActivationShape(parse.GetValue(batch), parse.GetValue(sequence), parse.GetValue(hidden), parse.GetValue(layers), parse.GetValue(heads));
            try
            {
                var count = parse.GetValue(parameters);
                var mixed = parse.GetValue(precision);
                var full = MemoryPlan.For(count, mixed, shape);
                AnsiConsole.Write(Table($"{count:G3} parameters, FP32", MemoryPlan.For(count, Precision.FP32, shape)));
                AnsiConsole.Write(Table($"{count:G3} parameters, {mixed} mixed precision", full));

                var shardings = Shardings(parse.GetValue(zero), parse.GetValue(fsdp), parse.GetValue(gpus));
                foreach (var sharding in shardings)
                    AnsiConsole.Write(Table($"{count:G3} parameters, {mixed}, per GPU: {sharding.Name}", ShardedMemoryPlan.PerGpu(full, sharding)));

                if (parse.GetValue(loraRank) is { } rank)
                {
                    var lora = MemoryPlan.ForLora(count, mixed, new LoraShape(rank, shape.Hidden, shape.Layers), shape);
                    AnsiConsole.Write(Table($"{count:G3} parameters, {mixed}, LoRA rank {rank} (base frozen)", lora));
                    foreach (var sharding in shardings)
                        AnsiConsole.Write(Table($"LoRA rank {rank}, per GPU: {sharding.Name}", ShardedMemoryPlan.PerGpu(lora, sharding)));
                    if (parse.GetValue(nf4)) QloraPlan.Write(count, mixed, new LoraShape(rank, shape.Hidden, shape.Layers), shape, Table);
                }
                return 0;
            }
            catch (ArgumentException e)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]{e.Message}[/]");
                return 2;
            }
        });
        return command;
    }

    private static IReadOnlyList<Sharding> Shardings(int? zero, string? fsdp, int gpus)
    {
        var shardings = new List<Sharding>();
        if (zero is { } stage) shardings.Add(Sharding.Zero(stage, gpus));
        if (fsdp is not null) shardings.Add(Sharding.Fsdp(ParseFsdp(fsdp), gpus));
        return shardings;
    }

    // Accepts PyTorch's spelling (FULL_SHARD) and the command-line one (full-shard).
    private static FsdpShardingStrategy ParseFsdp(string text) => text.Replace('_', '-').ToLowerInvariant() switch
    {
        "full-shard" => FsdpShardingStrategy.FullShard,
        "shard-grad-op" => FsdpShardingStrategy.ShardGradOp,
        "no-shard" => FsdpShardingStrategy.NoShard,
        _ => throw new ArgumentException($"--fsdp must be full-shard, shard-grad-op or no-shard (was '{text}')."),
    };

    internal static Table Table(string title, IReadOnlyList<MemoryPlanLine> plan)
    {
        var table = new Table().Title(Markup.Escape(title)).AddColumns("role", "bytes/param", "GB", "why");
        foreach (var line in plan)
            table.AddRow(Markup.Escape(line.Role), line.BytesPerParameter == 0 ? "" : line.BytesPerParameter.ToString("G3"), Gb(line.Bytes), Markup.Escape(line.Note));
        var weightState = plan.Where(l => l.Role != "activations").Sum(l => l.Bytes);
        table.AddRow("[bold]weights + grads + state[/]", "", $"[bold]{Gb(weightState)}[/]", "");
        table.AddRow("[bold]total[/]", "", $"[bold]{Gb(MemoryPlan.Total(plan))}[/]", "");
        return table;
    }

    // Two decimals for GB-sized roles; three significant digits for LoRA adapters' MB-sized ones.
    private static string Gb(double bytes) => bytes >= 1e9 || bytes == 0 ? (bytes / 1e9).ToString("F2") : (bytes / 1e9).ToString("G3");
}
