using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using PrecisionPolicy.Samples.Addition;
using PrecisionPolicy.Samples.Addition.Training;
using Xunit;

namespace PrecisionPolicy.Samples.Tests;

/// <summary>`--quick` trains the small configuration; options given beside it win.</summary>
[Collection(SampleCollection.Name)]
public sealed class QuickOptionTests : IDisposable
{
    private readonly DirectoryInfo output = Directory.CreateTempSubdirectory("pp-quick-");

    public void Dispose() => output.Delete(recursive: true);

    [Fact]
    public void Quick_takes_the_small_configuration_and_explicit_options_win()
    {
        // --width and --steps given: tests keep 16-bit training tiny (Native GEMM mode is slow).
        var exit = SampleCli.Create().Parse(["--quick", "--width", "16", "--steps", "4", "--precisions", "fp32,bf16", "--output", output.FullName]).Invoke();

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output.FullName, "results.json")));
        var options = json.RootElement.GetProperty("options");
        var quick = TrainingOptions.Quick;
        var defaults = new TrainingOptions();
        Assert.Equal(16, options.GetProperty("Width").GetInt32());
        Assert.Equal(4, options.GetProperty("Steps").GetInt32());
        Assert.NotEqual(defaults.Digits, quick.Digits); // so the next line tells --quick from the defaults
        Assert.Equal(quick.Digits, options.GetProperty("Digits").GetInt32());
        Assert.Equal(quick.Batch, options.GetProperty("Batch").GetInt32());
        Assert.Equal(quick.Layers, options.GetProperty("Layers").GetInt32());
        Assert.Equal(quick.Heads, options.GetProperty("Heads").GetInt32());
        Assert.All(json.RootElement.GetProperty("runs").EnumerateArray(), r => Assert.Equal(4, r.GetProperty("Losses").GetArrayLength()));
    }
}
