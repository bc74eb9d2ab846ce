using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using PrecisionPolicy.Samples.Addition;
using Xunit;

namespace PrecisionPolicy.Samples.Tests;

[Collection(SampleCollection.Name)]
public sealed class SampleEndToEndTests : IDisposable
{
    private readonly DirectoryInfo output = Directory.CreateTempSubdirectory("pp-sample-");

    public void Dispose() => output.Delete(recursive: true);

    [Fact]
    public void A_tiny_run_writes_every_precision_to_json_and_the_plot()
    {
        var exit = SampleCli.Create().Parse(
            ["--steps", "12", "--batch", "16", "--width", "16", "--layers", "1", "--heads", "2", "--digits", "1", "--output", output.FullName]).Invoke();

        Assert.Equal(0, exit);
        var plot = new FileInfo(Path.Combine(output.FullName, "losses.png"));
        Assert.True(plot.Exists && plot.Length > 1000, "losses.png was not written");
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(plot.FullName)[..4]);

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output.FullName, "results.json")));
        var runs = json.RootElement.GetProperty("runs").EnumerateArray().ToDictionary(r => r.GetProperty("Name").GetString()!);
        Assert.Equal(new[] { "fp32", "bf16", "fp16", "fp16-noscale", "fp8" }.Order(), runs.Keys.Order());
        foreach (var name in new[] { "bf16", "fp16", "fp8" })
        {
            var run = runs[name];
            Assert.Equal(12, run.GetProperty("Losses").GetArrayLength());
            Assert.All(run.GetProperty("Losses").EnumerateArray(), l => Assert.True(double.IsFinite(l.GetDouble()), $"{name} has a non-finite loss"));
            Assert.True(double.IsFinite(run.GetProperty("FinalLoss").GetDouble()));
            Assert.False(run.GetProperty("Diverged").GetBoolean());
        }
        Assert.Equal(65536.0, runs["fp16"].GetProperty("Scales")[0].GetDouble());
        // Linear and embedding weights are stored in BF16, LayerNorm parameters stay FP32.
        long Working(string run) => runs[run].GetProperty("BytesByRole").GetProperty("working weights").GetInt64();
        Assert.InRange(Working("bf16"), Working("fp32") / 2 + 1, Working("fp32") - 1);
        // Only the FP8 run has per-tensor scaling state, and the manifest reports it.
        long Fp8State(string run) => runs[run].GetProperty("BytesByRole").GetProperty("fp8 scaling state").GetInt64();
        Assert.True(Fp8State("fp8") > 0);
        Assert.Equal(0, Fp8State("bf16"));
    }

    [Fact]
    public void Plan_reproduces_the_7b_table()
    {
        var writer = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings { Out = new Spectre.Console.AnsiConsoleOutput(writer) });
        var previous = Spectre.Console.AnsiConsole.Console;
        Spectre.Console.AnsiConsole.Console = console;
        try
        {
            Assert.Equal(0, SampleCli.Create().Parse(["plan", "--parameters", "7e9"]).Invoke());
        }
        finally
        {
            Spectre.Console.AnsiConsole.Console = previous;
        }
        var text = writer.ToString();
        foreach (var gb in new[] { "112.0", "14.0", "28.0", "56.0" }) Assert.Contains(gb, text);
    }

    [Fact]
    public void A_bad_option_is_a_clear_error_not_a_crash()
    {
        Assert.Equal(2, SampleCli.Create().Parse(["--precisions", "fp64", "--output", output.FullName]).Invoke());
        Assert.Equal(2, SampleCli.Create().Parse(["--width", "10", "--heads", "4", "--output", output.FullName]).Invoke());
    }
}
