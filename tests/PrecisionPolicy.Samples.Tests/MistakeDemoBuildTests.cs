using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Xunit;

namespace PrecisionPolicy.Samples.Tests;

/// <summary>`dotnet build` of a project with deliberate mistakes shows the diagnostics, with help links, in the console and in SARIF 2.1.</summary>
[Collection(SampleCollection.Name)]
public sealed class MistakeDemoBuildTests
{
    [Fact]
    public void Build_output_and_sarif_carry_the_diagnostics_and_their_help_links()
    {
        var root = DotnetCli.RepositoryRoot();
        var sarif = Path.Combine(Path.GetTempPath(), $"pp-mistakes-{Guid.NewGuid():N}.sarif");
        // --no-incremental: an earlier build of MistakeDemo must not skip the compile that reports the diagnostics.
        var (exitCode, output) = DotnetCli.Run(root, "build", Path.Combine(root, "samples", "MistakeDemo"), "--nologo", "--no-incremental", $"-p:ErrorLog={sarif}%2Cversion=2.1");

        Assert.True(exitCode == 0, output);
        Assert.Contains("warning PP0001", output);
        Assert.Contains("docs/rules/PP0001.md", output);

        using var log = JsonDocument.Parse(File.ReadAllText(sarif));
        File.Delete(sarif);
        Assert.Equal("2.1.0", log.RootElement.GetProperty("version").GetString());
        var run = log.RootElement.GetProperty("runs")[0];
        var reported = run.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("ruleId").GetString()).ToHashSet();
        Assert.Superset(new[] { "PP0001", "PP0003", "PP0009" }.ToHashSet(), reported!);
        var helpUri = run.GetProperty("tool").GetProperty("driver").GetProperty("rules").EnumerateArray()
            .Single(r => r.GetProperty("id").GetString() == "PP0001").GetProperty("helpUri").GetString();
        Assert.EndsWith("/docs/rules/PP0001.md", helpUri);
    }
}
