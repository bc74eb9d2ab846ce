using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace PrecisionPolicy.Samples.Tests;

/// <summary>
/// The README's quick-start, run as written: its code blocks (marked <c>&lt;!-- quick-start:NAME --&gt;</c>)
/// are taken from README.md verbatim and run in an empty temporary folder against a freshly packed
/// package. Packages come from the machine's NuGet cache and sources; the local feed is $PP_FEED.
/// </summary>
[Collection(SampleCollection.Name)]
[Trait(PackedPackage.CostTrait, PackedPackage.Packaging)]
public sealed partial class QuickStartTests : IClassFixture<PackedPackage>, IDisposable
{
    private readonly DirectoryInfo work = Directory.CreateTempSubdirectory("pp-quickstart-");
    private readonly PackedPackage package;

    public QuickStartTests(PackedPackage package) => this.package = package;

    public void Dispose() => work.Delete(recursive: true);

    [Fact]
    public void The_readme_quick_start_builds_trains_and_prints_loss_and_loss_scale()
    {
        var readme = File.ReadAllText(Path.Combine(DotnetCli.RepositoryRoot(), "README.md"));
        // The package under test is packed by the same command the README gives.
        Assert.Contains(PackedPackage.PackCommand, Block(readme, "pack"));

        var environment = new Dictionary<string, string> { ["PP_FEED"] = package.Feed };
        Run(work.FullName, Block(readme, "create"), environment);
        var project = Assert.Single(work.GetDirectories()).FullName;
        File.WriteAllText(Path.Combine(project, "Program.cs"), Block(readme, "program"));
        var output = Run(project, Block(readme, "run"), environment);

        var steps = StepLine().Matches(output).Select(m => (
            Step: int.Parse(m.Groups["step"].Value, CultureInfo.InvariantCulture),
            Loss: double.Parse(m.Groups["loss"].Value, CultureInfo.InvariantCulture),
            Scale: m.Groups["scale"].Value,
            Applied: m.Groups["applied"].Value)).ToList();
        Assert.Equal(new[] { 20, 40, 60, 80, 100 }, steps.Select(s => s.Step));
        Assert.All(steps, s => Assert.Equal(("1", "True"), (s.Scale, s.Applied))); // BF16: no loss scaling, no skipped step
        Assert.True(steps[^1].Loss < steps[0].Loss / 2, $"the loss did not fall:\n{output}");
        // The manifest: the policy reached the weights (BF16 Linear, FP32 norm and [HighPrecision] head).
        Assert.Matches(@"hidden\.weight\s+\w+\s+BFloat16", output);
        Assert.Matches(@"norm\.weight\s+\w+\s+Float32", output);
        Assert.Matches(@"head\.weight\s+\w+\s+Float32", output);
    }

    /// <summary>The fenced block after <c>&lt;!-- quick-start:<paramref name="name"/> --&gt;</c>, without its fences.</summary>
    private static string Block(string readme, string name)
    {
        var match = Regex.Match(readme, $@"<!-- quick-start:{name} -->\r?\n```\w*\r?\n(?<code>.*?)\r?\n```", RegexOptions.Singleline);
        Assert.True(match.Success, $"README.md has no quick-start:{name} block");
        return match.Groups["code"].Value + "\n";
    }

    private static string Run(string directory, string script, IReadOnlyDictionary<string, string> environment)
    {
        var (exitCode, output) = DotnetCli.Bash(directory, script, environment);
        Assert.True(exitCode == 0, $"the quick-start step failed:\n{script}\n{output}");
        return output;
    }

    [GeneratedRegex(@"^step (?<step>\d+): loss (?<loss>\d+\.\d{4}), loss scale (?<scale>\S+), applied (?<applied>\w+)$", RegexOptions.Multiline)]
    private static partial Regex StepLine();
}
