using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace PrecisionPolicy.Samples.Tests;

/// <summary>
/// What is released is told once and agreed on: CHANGELOG.md's version sections, the analyzers' and the
/// generator's AnalyzerReleases.Shipped.md, the runtime's PublicAPI.Shipped.txt, and what README.md says.
/// </summary>
public sealed partial class ReleaseRecordTests
{
    private static readonly string Root = DotnetCli.RepositoryRoot();

    private static string Read(params string[] path) => File.ReadAllText(Path.Combine(new[] { Root }.Concat(path).ToArray()));

    [Fact]
    public void Changelog_and_shipped_files_agree_on_what_is_released()
    {
        var changelog = Read("CHANGELOG.md");
        var released = ChangelogVersion().Matches(changelog).Select(static m => m.Groups["version"].Value).ToList();
        Assert.Contains("## [Unreleased]", changelog, StringComparison.Ordinal);

        foreach (var shipped in new[] { Read("analyzers", "PrecisionPolicy.Analyzers", "AnalyzerReleases.Shipped.md"), Read("generators", "PrecisionPolicy.Generators", "AnalyzerReleases.Shipped.md") })
            Assert.Equal(released, AnalyzerRelease().Matches(shipped).Select(static m => m.Groups["version"].Value).Reverse().ToList());
        var shippedApi = Read("src", "PrecisionPolicy", "PublicAPI.Shipped.txt").Split('\n')
            .Select(static l => l.Trim())
            .Where(static l => l.Length > 0 && !l.StartsWith('#'))
            .ToList();
        Assert.Equal(released.Count > 0, shippedApi.Count > 0);
    }

    [Fact]
    public void Readme_says_what_the_changelog_says_about_releases()
    {
        var released = ChangelogVersion().IsMatch(Read("CHANGELOG.md"));
        var readme = Read("README.md");

        // Unreleased, the quick start packs the package itself; released, the README must not say otherwise.
        Assert.Equal(!released, readme.Contains("not on nuget.org yet", StringComparison.Ordinal));
    }

    /// <summary>A released section of the changelog: <c>## [1.2.3] - 2026-01-31</c> (newest first).</summary>
    [GeneratedRegex(@"^## \[(?<version>\d+\.\d+\.\d+[^\]]*)\]", RegexOptions.Multiline)]
    private static partial Regex ChangelogVersion();

    /// <summary>A release of the Roslyn release-tracking files: <c>## Release 1.2.3</c> (oldest first).</summary>
    [GeneratedRegex(@"^## Release (?<version>\S+)", RegexOptions.Multiline)]
    private static partial Regex AnalyzerRelease();
}
