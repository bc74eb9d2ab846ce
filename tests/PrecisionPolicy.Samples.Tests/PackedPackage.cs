using System;
using System.IO;
using Xunit;

namespace PrecisionPolicy.Samples.Tests;

/// <summary>
/// The package packed once for every consumer test of a class (packing builds the runtime, the
/// generator and the analyzers: the slow part). A version unique to this run keeps NuGet's global
/// cache from serving an older package under the same number.
/// </summary>
public sealed class PackedPackage : IDisposable
{
    private readonly DirectoryInfo work = Directory.CreateTempSubdirectory("pp-package-");

    public PackedPackage()
    {
        Feed = work.CreateSubdirectory("feed").FullName;
        Version = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmssfff}";
        var root = DotnetCli.RepositoryRoot();
        var (exitCode, output) = DotnetCli.Run(root, "pack", Path.Combine(root, "src", "PrecisionPolicy"), "-c", "Release", "-o", Feed, $"-p:Version={Version}");
        Assert.True(exitCode == 0, $"dotnet pack failed:\n{output}");
    }

    /// <summary>The folder holding the .nupkg (a local feed).</summary>
    public string Feed { get; }

    /// <summary>The package version packed.</summary>
    public string Version { get; }

    public void Dispose() => work.Delete(recursive: true);
}
