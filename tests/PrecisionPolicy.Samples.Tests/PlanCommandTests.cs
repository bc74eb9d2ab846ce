using System.IO;
using PrecisionPolicy.Samples.Addition;
using Spectre.Console;
using Xunit;

namespace PrecisionPolicy.Samples.Tests;

[Collection(SampleCollection.Name)]
public sealed class PlanCommandTests
{
    private static (int Exit, string Text) Run(params string[] args)
    {
        var writer = new StringWriter();
        var previous = AnsiConsole.Console;
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer) });
        try
        {
            return (SampleCli.Create().Parse(args).Invoke(), writer.ToString());
        }
        finally
        {
            AnsiConsole.Console = previous;
        }
    }

    [Fact]
    public void Zero_stages_print_the_per_gpu_totals_of_7b_on_8_gpus()
    {
        // Per GPU, BF16 + Adam: stage 1 14 + 14 + 84/8 = 38.5 GB, stage 2 14 + 98/8 = 26.25 GB, stage 3 112/8 = 14 GB.
        Assert.Contains("38.50", Run("plan", "--zero", "1", "--gpus", "8").Text);
        Assert.Contains("26.25", Run("plan", "--zero", "2", "--gpus", "8").Text);
        var (exit, text) = Run("plan", "--fsdp", "FULL_SHARD", "--gpus", "8");
        Assert.Equal(0, exit);
        Assert.Contains("FSDP FULL_SHARD, 8 GPUs", text);
        Assert.Contains("1.75", text); // 14 GB of working weights / 8
    }

    [Fact]
    public void Lora_rank_adds_the_adapter_plan()
    {
        // 7B frozen in BF16 (14 GB) + 8,388,608 rank-8 adapter parameters × 16 B = 14.13 GB.
        var (exit, text) = Run("plan", "--lora-rank", "8");
        Assert.Equal(0, exit);
        Assert.Contains("frozen base weights", text);
        Assert.Contains("14.13", text);
    }

    [Fact]
    public void Bad_sharding_options_are_clear_errors()
    {
        var (exit, text) = Run("plan", "--zero", "4");
        Assert.Equal(2, exit);
        Assert.Contains("ZeRO stage must be 0, 1, 2 or 3", text);
        Assert.Equal(2, Run("plan", "--fsdp", "half-shard").Exit);
        Assert.Equal(2, Run("plan", "--lora-rank", "0").Exit);
    }
}
