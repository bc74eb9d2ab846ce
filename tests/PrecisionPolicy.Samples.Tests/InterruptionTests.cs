using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using PrecisionPolicy.Samples.Addition;
using Xunit;

namespace PrecisionPolicy.Samples.Tests;

/// <summary>
/// Ctrl+C during training stops cleanly and still writes results.json and the plot for what has run. The
/// sample is started so that SIGINT reaches it however the test host was started (see the second test).
/// </summary>
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
            },
            interruptible: true);

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

    /// <summary>
    /// Why the test above starts the sample through <c>env --default-signal=INT</c>: a process started with
    /// SIGINT ignored (a background job of a script, and a test host it runs) passes that on to what it starts,
    /// and a process that ignores SIGINT never sees Ctrl+C. The wrapper gives SIGINT back its default, and
    /// <see cref="SampleProcess.Interrupt"/> refuses, naming the cause, to signal a process that ignores it.
    /// </summary>
    [Fact]
    public void Sigint_ignored_by_a_parent_is_passed_on_and_the_interruptible_start_gives_it_back()
    {
        using var ignoring = Shell("trap '' INT; exec sleep 60");
        using var restored = Shell("trap '' INT; exec env --default-signal=INT sleep 60");
        try
        {
            Assert.True(SampleProcess.IgnoresSigint(RunningSleep(ignoring)));
            Assert.False(SampleProcess.IgnoresSigint(RunningSleep(restored)));
            var error = Assert.Throws<InvalidOperationException>(() => SampleProcess.Interrupt(ignoring));
            Assert.Contains("ignores SIGINT", error.Message);
        }
        finally
        {
            ignoring.Kill();
            restored.Kill();
        }
    }

    private static System.Diagnostics.Process Shell(string script)
    {
        var start = new System.Diagnostics.ProcessStartInfo("/bin/sh");
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        return System.Diagnostics.Process.Start(start)!;
    }

    /// <summary>The process's id once it runs `sleep` (after the shell's and env's exec), within a minute.</summary>
    private static int RunningSleep(System.Diagnostics.Process process)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (File.ReadAllText($"/proc/{process.Id}/comm").Trim() != "sleep")
        {
            Assert.True(DateTime.UtcNow < deadline, $"process {process.Id} did not reach sleep");
            System.Threading.Thread.Sleep(10);
        }
        return process.Id;
    }
}
