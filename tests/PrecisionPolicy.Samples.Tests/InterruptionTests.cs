using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using PrecisionPolicy.Samples.Addition;
using Xunit;

namespace PrecisionPolicy.Samples.Tests;

/// <summary>Ctrl+C during training stops cleanly and still writes results.json and the plot for what has run.</summary>
[Collection(SampleCollection.Name)]
public sealed class InterruptionTests : IDisposable
{
    private const int Steps = 12;
    private readonly DirectoryInfo output = Directory.CreateTempSubdirectory("pp-interrupted-");

    public void Dispose() => output.Delete(recursive: true);

    [Fact]
    public void Ctrl_c_in_the_second_run_writes_the_first_run_and_the_part_of_the_second()
    {
        var interrupted = false;
        var (exitCode, lines, errors) = SampleProcess.Run(
            ["--steps", $"{Steps}", "--batch", "16", "--width", "16", "--layers", "1", "--heads", "2", "--digits", "1",
             "--precisions", "fp32,bf16,fp16", "--output", output.FullName],
            (line, process) =>
            {
                // The second run's first progress line: it has steps left (and fp16 all of its own).
                if (interrupted || !line.StartsWith("[2/3] bf16", StringComparison.Ordinal)) return;
                SampleProcess.Interrupt(process);
                interrupted = true;
            });

        var log = string.Join('\n', lines) + errors;
        Assert.True(interrupted, log);
        Assert.True(exitCode == TrainCommand.InterruptedExitCode, log);
        Assert.Contains(lines, l => l.StartsWith("Interrupted", StringComparison.Ordinal));

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output.FullName, "results.json")));
        Assert.True(json.RootElement.GetProperty("interrupted").GetBoolean());
        var runs = json.RootElement.GetProperty("runs").EnumerateArray().ToArray();
        Assert.Equal("fp32", runs[0].GetProperty("Name").GetString());
        Assert.Equal(Steps, runs[0].GetProperty("Losses").GetArrayLength());
        Assert.False(runs[0].GetProperty("Interrupted").GetBoolean());
        // Training stopped: fewer steps than the three runs asked for, at most one run cut short.
        Assert.InRange(runs.Length, 2, 3);
        Assert.True(runs.Sum(r => r.GetProperty("Losses").GetArrayLength()) < 3 * Steps);
        Assert.True(runs.Count(r => r.GetProperty("Interrupted").GetBoolean()) <= 1);

        var plot = Path.Combine(output.FullName, "losses.png");
        Assert.True(File.Exists(plot), log);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(plot)[..4]);
    }
}
