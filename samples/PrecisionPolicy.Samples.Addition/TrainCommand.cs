using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Text.Json;
using PrecisionPolicy.Samples.Addition.Data;
using PrecisionPolicy.Samples.Addition.Reporting;
using PrecisionPolicy.Samples.Addition.Training;
using PrecisionPolicy.Tracing;
using Spectre.Console;
using TorchSharp;

namespace PrecisionPolicy.Samples.Addition;

/// <summary>The default command: train every requested run, then print the table and write the plot and JSON.</summary>
public static class TrainCommand
{
    /// <summary>Exit code after Ctrl+C (128 + SIGINT, as shells report it); the results so far are written.</summary>
    public const int InterruptedExitCode = 130;

    /// <summary>
    /// Console width when the output is not a terminal: wide enough that no table row or file path
    /// wraps (a file has no width; Spectre's fallback of 80 columns would fold the table).
    /// </summary>
    private const int UnwrappedWidth = 4096;

    public static void AddTo(RootCommand root)
    {
        var defaults = new TrainingOptions();
        var quick = new Option<bool>("--quick")
        {
            Description = $"A small configuration that finishes in well under a minute on two cores ({TrainingOptions.Quick.Describe()}); options given as well win.",
        };
        var steps = new Option<int>("--steps") { Description = "Optimizer steps per run.", DefaultValueFactory = _ => defaults.Steps };
        var batch = new Option<int>("--batch") { Description = "Addition problems per optimizer step (the batch size).", DefaultValueFactory = _ => defaults.Batch };
        var digits = new Option<int>("--digits") { Description = "Digits per operand.", DefaultValueFactory = _ => defaults.Digits };
        var width = new Option<int>("--width") { Description = "Model width (embedding size); a multiple of --heads.", DefaultValueFactory = _ => defaults.Width };
        var layers = new Option<int>("--layers") { Description = "Transformer blocks.", DefaultValueFactory = _ => defaults.Layers };
        var heads = new Option<int>("--heads") { Description = "Attention heads.", DefaultValueFactory = _ => defaults.Heads };
        var precisions = new Option<string>("--precisions")
        {
            Description = "Comma-separated runs, in order: " + string.Join(", ", RunKind.All.Select(k => $"{k.Name} ({k.Description})")) + ".",
            DefaultValueFactory = _ => string.Join(",", RunKind.Default.Select(k => k.Name)),
        };
        var failureModes = new Option<bool>("--failure-modes")
        {
            Description = "Also train the runs that show why each technique exists, each beside the recipe's fix: " +
                          "FP16 gradients underflowing without loss scaling, FP16 weights losing updates without FP32 masters, " +
                          "an FP16 overflow located by the numerics trace (" + string.Join(", ", RunKind.FailureModes.Select(k => k.Name)) + "): a second table and failure-modes.png.",
        };
        var sgdLearningRate = new Option<double>("--sgd-lr") { Description = "Learning rate of the plain-SGD runs (fp16-inplace-sgd, fp16-masters-sgd).", DefaultValueFactory = _ => defaults.SgdLearningRate };
        var seed = new Option<int>("--seed") { Description = "Seed for data and initialisation.", DefaultValueFactory = _ => defaults.Seed };
        var output = new Option<DirectoryInfo>("--output") { Description = "Folder for results.json and losses.png.", DefaultValueFactory = _ => new DirectoryInfo("out") };
        var device = new Option<string>("--device") { Description = "cpu, or cuda when a CUDA backend is present.", DefaultValueFactory = _ => "cpu" };
        var traceNumerics = new Option<bool>("--trace-numerics")
        {
            Description = "Trace every intercepted call site (amax, underflow, overflow, first inf/NaN): a table of the worst sites, numerics.png, and per run a precision-advice.json for the IDE.",
        };
        foreach (var option in new Option[] { quick, steps, batch, digits, width, layers, heads, precisions, failureModes, sgdLearningRate, seed, output, device, traceNumerics })
            root.Options.Add(option);

        root.SetAction(parse =>
        {
            var basis = parse.GetValue(quick) ? TrainingOptions.Quick : defaults;
            // An option given on the command line wins over --quick; one left out takes the basis' value.
            int Pick(Option<int> option, int fallback) => parse.GetResult(option) is { Implicit: false } ? parse.GetValue(option) : fallback;
            var options = basis with
            {
                Steps = Pick(steps, basis.Steps),
                Batch = Pick(batch, basis.Batch),
                Digits = Pick(digits, basis.Digits),
                Width = Pick(width, basis.Width),
                Layers = Pick(layers, basis.Layers),
                Heads = Pick(heads, basis.Heads),
                Seed = Pick(seed, basis.Seed),
                SgdLearningRate = parse.GetValue(sgdLearningRate),
                Device = parse.GetValue(device)!,
                TraceNumerics = parse.GetValue(traceNumerics),
            };
            return Run(options, parse.GetValue(precisions)!, parse.GetValue(failureModes), parse.GetValue(output)!);
        });
    }

    private static int Run(TrainingOptions options, string precisions, bool failureModes, DirectoryInfo output)
    {
        var console = AnsiConsole.Console;
        if (!console.Profile.Out.IsTerminal) console.Profile.Width = UnwrappedWidth;

        IReadOnlyList<RunKind> runs;
        try
        {
            runs = RunKind.Parse(precisions);
            if (failureModes) runs = [.. runs, .. RunKind.FailureModes.Where(k => !runs.Contains(k))];
            Validate(options, runs);
        }
        catch (ArgumentException e)
        {
            console.MarkupLineInterpolated($"[red]{e.Message}[/]");
            return 2;
        }

        var task = new AdditionTask(options.Digits, options.Seed);
        var trainer = new Trainer(task, options);
        console.MarkupLineInterpolated($"Training a {options.Layers}-layer, width-{options.Width} GPT on {options.Digits}-digit addition, {options.Steps} steps per run, on {options.Device}. Ctrl+C stops and writes the runs so far.");
        using var interruption = new Interruption();
        var results = TrainingProgress.Train(console, runs, options.Steps, (run, progress) => trainer.Run(run, progress, interruption.Token));
        var interrupted = interruption.Token.IsCancellationRequested;
        if (interrupted)
            console.MarkupLineInterpolated($"[yellow]Interrupted{(results.LastOrDefault() is { Interrupted: true } last ? $" during {last.Name} at step {last.Losses.Count} of {options.Steps}" : "")}: reporting the {results.Count} run(s) so far.[/]");

        var reference = results.FirstOrDefault(r => r.Name == "fp32");
        var precisionRuns = results.Where(r => r.FailureMode is null).ToArray();
        var failureRuns = results.Where(r => r.FailureMode is not null).ToArray();
        if (precisionRuns.Length > 0) console.Write(ResultsTable.Build(precisionRuns, reference));
        if (failureRuns.Length > 0) console.Write(ResultsTable.BuildFailureModes(failureRuns, reference));
        foreach (var line in ResultsTable.GemmModes(results)) console.WriteLine(line);
        foreach (var r in results.Where(r => r.FirstFailingSite is not null))
            console.MarkupLineInterpolated($"{r.Name}: first skipped step's inf/NaN came from [bold]{r.FirstFailingSite}[/]");
        output.Create();
        var json = Path.Combine(output.FullName, "results.json");
        File.WriteAllText(json, JsonSerializer.Serialize(new { options, interrupted, peakMemoryVsFp32 = PeakMemoryRatio.Of(results), runs = results }, JsonOptions));
        if (results.Count > 0)
        {
            var plot = Path.Combine(output.FullName, "losses.png");
            LossPlot.Save(precisionRuns.Length > 0 ? precisionRuns : results, plot);
            console.MarkupLineInterpolated($"Wrote [bold]{plot}[/] and [bold]{json}[/].");
            if (failureRuns.Length > 0)
            {
                var failurePlot = Path.Combine(output.FullName, "failure-modes.png");
                FailureModesPlot.Save(failureRuns, reference, failurePlot);
                console.MarkupLineInterpolated($"Wrote [bold]{failurePlot}[/].");
            }
            if (options.TraceNumerics) WriteNumerics(console, results, output);
        }
        else
        {
            console.MarkupLineInterpolated($"Wrote [bold]{json}[/] (no step finished, so no plot).");
        }
        return interrupted ? InterruptedExitCode : 0;
    }

    /// <summary>`--trace-numerics`: the table of the worst sites, numerics.png, and each run's advice file.</summary>
    private static void WriteNumerics(IAnsiConsole console, IReadOnlyList<RunResult> results, DirectoryInfo output)
    {
        console.Write(NumericsTable.Build(results));
        var plot = Path.Combine(output.FullName, "numerics.png");
        NumericsPlot.Save(results, plot);
        foreach (var r in results)
        {
            // The trace's findings for the IDE: add the file to the project as an AdditionalFile (rule PP0030).
            var folder = Directory.CreateDirectory(Path.Combine(output.FullName, "advice", r.Name));
            NumericsTrace.WriteAdvice(Path.Combine(folder.FullName, NumericsTrace.AdviceFileName), r.Numerics ?? []);
        }
        console.MarkupLineInterpolated($"Wrote [bold]{plot}[/] and, per run, [bold]{Path.Combine(output.FullName, "advice", "<run>", NumericsTrace.AdviceFileName)}[/].");
    }

    private static void Validate(TrainingOptions options, IReadOnlyList<RunKind> runs)
    {
        if (runs.Count == 0)
            throw new ArgumentException($"--precisions names no run: use {string.Join(", ", RunKind.All.Select(k => k.Name))}.");
        if (!(options.SgdLearningRate > 0 && double.IsFinite(options.SgdLearningRate)))
            throw new ArgumentException($"--sgd-lr ({options.SgdLearningRate}) must be a finite number > 0.");
        if (options.Steps < 1 || options.Batch < 1 || options.Width < 1 || options.Layers < 1 || options.Heads < 1)
            throw new ArgumentException("--steps, --batch, --width, --layers and --heads must be >= 1.");
        if (options.Digits is < 1 or > AdditionTask.MaxDigits)
            throw new ArgumentException($"--digits ({options.Digits}) must be 1 to {AdditionTask.MaxDigits}.");
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
