using System.CommandLine;

namespace PrecisionPolicy.Samples.Addition;

/// <summary>The sample's command line: training by default, `plan` for the memory plan.</summary>
public static class SampleCli
{
    public static RootCommand Create()
    {
        var root = new RootCommand("Train a small GPT on multi-digit addition under FP32, BF16, FP16 (with and without loss scaling) and FP8, and compare them: a table, results.json and losses.png. Ctrl+C stops and still writes the runs so far.");
        TrainCommand.AddTo(root);
        root.Subcommands.Add(PlanCommand.Create());
        root.Subcommands.Add(DataParallelCommand.Create());
        root.Subcommands.Add(FinetuneCommand.Create());
        return root;
    }
}
