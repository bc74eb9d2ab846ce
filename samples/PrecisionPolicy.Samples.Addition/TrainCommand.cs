using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Text.Json;
using PrecisionPolicy.Samples.Addition.Data;
using PrecisionPolicy.Samples.Addition.Reporting;
using PrecisionPolicy.Samples.Addition.Training;
using Spectre.Console;
using TorchSharp;

namespace PrecisionPolicy.Samples.Addition;

/// <summary>The default command: train every requested run, then print the table and write the plot and JSON.</summary>
public static class TrainCommand
{
    public static void AddTo(RootCommand root)
    {
        var defaults = new TrainingOptions();
        var steps = new Option<int>("--steps") { Description = "Optimizer steps per run.", DefaultValueFactory = _ => defaults.Steps };
        var batch = new Option<int>("--batch") { Description = "Problems per step.", DefaultValueFactory = _ => defaults.Batch };
        var digits = new Option<int>("--digits") { Description = "Digits per operand.", DefaultValueFactory = _ => defaults.Digits };
        var width = new Option<int>("--width") { Description = "Model width.", DefaultValueFactory = _ => defaults.Width };
        var layers = new Option<int>("--layers") { Description = "Transformer blocks.", DefaultValueFactory = _ => defaults.Layers };
        var heads = new Option<int>("--heads") { Description = "Attention heads.", DefaultValueFactory = _ => defaults.Heads };
        var precisions = new Option<string>("--precisions")
        {
            Description = $"Comma-separated runs: {string.Join(", ", RunKind.All.Select(k => k.Name))}.",
            DefaultValueFactory = _ => string.Join(",", RunKind.All.Select(k => k.Name)),
        };
        var seed = new Option<int>("--seed") { Description = "Seed for data and initialisation.", DefaultValueFactory = _ => defaults.Seed };
        var output = new Option<DirectoryInfo>("--output") { Description = "Folder for results.json and losses.png.", DefaultValueFactory = _ => new DirectoryInfo("out") };
        var device = new Option<string>("--device") { Description = "cpu, or cuda when a CUDA backend is present.", DefaultValueFactory = _ => "cpu" };
        foreach (var option in new Option[] { steps, batch, digits, width, layers, heads, precisions, seed, output, device })
            root.Options.Add(option);

        root.SetAction(parse =>
        {
            var options = new TrainingOptions
            {
                Steps = parse.GetValue(steps),
                Batch = parse.GetValue(batch),
                Digits = parse.GetValue(digits),
                Width = parse.GetValue(width),
                Layers = parse.GetValue(layers),
                Heads = parse.GetValue(heads),
                Seed = parse.GetValue(seed),
                Device = parse.GetValue(device)!,
            };
            return Run(options, parse.GetValue(precisions)!, parse.GetValue(output)!);
        });
    }

    private static int Run(TrainingOptions options, string precisions, DirectoryInfo output)
    {
        IReadOnlyList<RunKind> runs;
        try
        {
            runs = RunKind.Parse(precisions);
            Validate(options);
        }
        catch (ArgumentException e)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]{e.Message}[/]");
            return 2;
        }

        var task = new AdditionTask(options.Digits, options.Seed);
        var trainer = new Trainer(task, options);
        var results = new List<RunResult>();
        AnsiConsole.MarkupLineInterpolated($"Training a {options.Layers}-layer, width-{options.Width} GPT on {options.Digits}-digit addition, {options.Steps} steps per run, on {options.Device}.");
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var bars = runs.ToDictionary(r => r, r => context.AddTask(r.Name, autoStart: false, maxValue: options.Steps));
                foreach (var run in runs)
                {
                    bars[run].StartTask();
                    results.Add(trainer.Run(run, step => bars[run].Value = step));
                    bars[run].Value = options.Steps;
                    bars[run].StopTask();
                }
            });

        AnsiConsole.Write(ResultsTable.Build(results));
        output.Create();
        var plot = Path.Combine(output.FullName, "losses.png");
        var json = Path.Combine(output.FullName, "results.json");
        LossPlot.Save(results, plot);
        File.WriteAllText(json, JsonSerializer.Serialize(new { options, runs = results }, JsonOptions));
        AnsiConsole.MarkupLineInterpolated($"Wrote [bold]{plot}[/] and [bold]{json}[/].");
        return 0;
    }

    private static void Validate(TrainingOptions options)
    {
        if (options.Steps < 1 || options.Batch < 1 || options.Width < 1 || options.Layers < 1 || options.Heads < 1)
            throw new ArgumentException("--steps, --batch, --width, --layers and --heads must be >= 1.");
        if (options.Width % options.Heads != 0)
            throw new ArgumentException($"--width ({options.Width}) must be a multiple of --heads ({options.Heads}).");
        if (options.Device.StartsWith("cuda", StringComparison.OrdinalIgnoreCase) && !torch.cuda.is_available())
            throw new ArgumentException("--device cuda needs a CUDA backend: build with -p:TorchBackend=cuda on a machine with a CUDA GPU.");
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}
