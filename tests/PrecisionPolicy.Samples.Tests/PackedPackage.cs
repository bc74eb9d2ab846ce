using System;
using System.Collections.Generic;
using System.IO;
using Xunit;

namespace PrecisionPolicy.Samples.Tests;

/// <summary>
/// The package packed once per test run for every test that consumes it (packing builds the
/// runtime for both frameworks, the generator and the analyzers: the slow part), the way the
/// README's quick-start packs it, with deterministic paths as CI packs it. A version unique to this
/// run keeps NuGet's global cache from serving an older package under the same number.
/// </summary>
public sealed class PackedPackage
{
    /// <summary>
    /// The trait of the tests that pack or consume the package: they do not depend on the GEMM mode,
    /// so CI runs them in one pass only.
    /// </summary>
    public const string CostTrait = "Cost";

    /// <inheritdoc cref="CostTrait"/>
    public const string Packaging = "Packaging";

    /// <summary>The pack command of the README's quick-start, run from the repository root.</summary>
    public const string PackCommand = "dotnet pack src/PrecisionPolicy -c Release -o \"$PP_FEED\"";

    private static readonly Lazy<(string Feed, string Version)> Packed = new(Pack);

    /// <summary>The folder holding the .nupkg and .snupkg (a local feed).</summary>
    public string Feed => Packed.Value.Feed;

    /// <summary>The package version packed.</summary>
    public string Version => Packed.Value.Version;

    /// <summary>The path of the packed .nupkg.</summary>
    public string Nupkg => Path.Combine(Feed, $"PrecisionPolicy.{Version}.nupkg");

    /// <summary>The path of the packed symbol package.</summary>
    public string Snupkg => Path.Combine(Feed, $"PrecisionPolicy.{Version}.snupkg");

    private static (string, string) Pack()
    {
        var work = Directory.CreateTempSubdirectory("pp-package-");
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { work.Delete(recursive: true); }
            catch (IOException) { } // a temp folder left behind is harmless; a throw at exit is not
        };
        var feed = work.CreateSubdirectory("feed").FullName;
        var version = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmssfff}";
        var root = DotnetCli.RepositoryRoot();
        var (exitCode, output) = DotnetCli.Bash(root, PackCommand + $" -p:Version={version} -p:ContinuousIntegrationBuild=true", new Dictionary<string, string> { ["PP_FEED"] = feed });
        Assert.True(exitCode == 0, $"dotnet pack failed:\n{output}");
        return (feed, version);
    }
}
