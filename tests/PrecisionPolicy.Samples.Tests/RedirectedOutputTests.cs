using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit;

namespace PrecisionPolicy.Samples.Tests;

/// <summary>One tiny run of the sample with its output sent to a pipe, shared by the tests below.</summary>
public sealed class RedirectedRun : IDisposable
{
    public static readonly string[] Runs = ["fp32", "fp16", "fp16-noscale"];

    public RedirectedRun()
    {
        var (exitCode, lines, errors) = SampleProcess.Run(
            ["--steps", "8", "--batch", "16", "--width", "16", "--layers", "1", "--heads", "2", "--digits", "1",
             "--precisions", string.Join(",", Runs), "--output", Folder.FullName]);
        ExitCode = exitCode;
        Lines = lines;
        Errors = errors;
    }

    public DirectoryInfo Folder { get; } = Directory.CreateTempSubdirectory("pp-redirected-");
    public int ExitCode { get; }
    public IReadOnlyList<string> Lines { get; }
    public string Errors { get; }

    public void Dispose() => Folder.Delete(recursive: true);
}

/// <summary>
/// Output sent to a file or a pipe reads as a log: one line per run at every quarter of its steps,
/// in order, no control sequences, the table and the paths each on their own unwrapped lines; and
/// the JSON says what the table says.
/// </summary>
[Collection(SampleCollection.Name)]
public sealed class RedirectedOutputTests(RedirectedRun run) : IClassFixture<RedirectedRun>
{
    private static readonly Regex ProgressLine = new(@"^\[(\d+)/(\d+)\] (\S+) +(\d+)%  step (\d+)/8  loss \d+\.\d{4}  \d+\.\d s$");

    [Fact]
    public void Progress_is_one_line_per_run_at_each_quarter_in_order_without_control_sequences()
    {
        Assert.True(run.ExitCode == 0, string.Join('\n', run.Lines) + run.Errors);
        var text = string.Join('\n', run.Lines);
        Assert.DoesNotContain(text, c => char.IsControl(c) && c != '\n');

        var progress = run.Lines.Where(l => l.StartsWith('[')).ToArray();
        var expected = RedirectedRun.Runs.SelectMany((name, i) => new[] { (25, 2), (50, 4), (75, 6), (100, 8) }
            .Select(p => $"{i + 1}/{RedirectedRun.Runs.Length} {name} {p.Item1}% {p.Item2}")).ToArray();
        var seen = progress.Select(l => ProgressLine.Match(l)).Select(m =>
            m.Success ? $"{m.Groups[1]}/{m.Groups[2]} {m.Groups[3]} {m.Groups[4]}% {m.Groups[5]}" : "unexpected: " + m.Value).ToArray();
        Assert.Equal(expected, seen);
    }

    [Fact]
    public void The_table_rows_and_the_file_paths_are_not_wrapped()
    {
        var rows = TableRows().ToArray();
        Assert.Equal(RedirectedRun.Runs, rows[0].Skip(1));                  // the header holds every run name whole
        var body = rows[1..];
        Assert.All(body, r => Assert.NotEqual("", r[0]));                   // no continuation lines
        Assert.Equal(body.Length, body.Select(r => r[0]).Distinct().Count()); // each label once
        Assert.Contains(body, r => r[0] == "final loss (mean of last 10%)");

        var plot = Path.Combine(run.Folder.FullName, "losses.png");
        var json = Path.Combine(run.Folder.FullName, "results.json");
        Assert.Contains($"Wrote {plot} and {json}.", run.Lines);
    }

    [Fact]
    public void Runs_without_loss_scaling_have_no_scale_in_the_json_and_off_in_the_table()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.Folder.FullName, "results.json")));
        Assert.False(document.RootElement.GetProperty("interrupted").GetBoolean());
        var runs = document.RootElement.GetProperty("runs").EnumerateArray().ToDictionary(r => r.GetProperty("Name").GetString()!);
        foreach (var name in new[] { "fp32", "fp16-noscale" })
        {
            Assert.Equal("Off", runs[name].GetProperty("LossScaling").GetString());
            Assert.Equal(JsonValueKind.Null, runs[name].GetProperty("FinalScale").ValueKind);
            Assert.Equal(JsonValueKind.Null, runs[name].GetProperty("Scales").ValueKind);
        }
        Assert.Equal(65536.0, runs["fp16"].GetProperty("FinalScale").GetDouble());
        Assert.Equal(8, runs["fp16"].GetProperty("Scales").GetArrayLength());

        var scaleRow = TableRows().Single(r => r[0] == "final loss scale");
        Assert.Equal(["off", "65536", "off"], scaleRow.Skip(1));
    }

    // The table's lines with text (not its rules), split into trimmed cells; Spectre draws "│", or "|" where Unicode is off.
    private IEnumerable<string[]> TableRows() =>
        run.Lines.Where(l => (l.StartsWith('│') || l.StartsWith('|')) && l.Any(char.IsLetterOrDigit))
            .Select(l => l.Trim(l[0]).Split(l[0]).Select(c => c.Trim()).ToArray());
}
