using System;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using Xunit;

namespace PrecisionPolicy.Generators.Tests;

/// <summary>Snapshots of the emitted text; each also compiles the output with zero warnings.</summary>
public sealed class SnapshotTests
{
    [Theory]
    [InlineData("Mlp", Sources.Mlp)]
    [InlineData("TransformerBlock", Sources.TransformerBlock)]
    [InlineData("Cnn", Sources.Cnn)]
    [InlineData("Nested", Sources.Nested)]
    [InlineData("Sequential", Sources.SequentialModel)]
    [InlineData("HighPrecisionMethod", Sources.HighPrecisionMethod)]
    [InlineData("Fp16LossScaling", Sources.Fp16Scaled)]
    [InlineData("Fp8", Sources.Fp8)]
    [InlineData("ThreeInputs", Sources.ThreeInputs)]
    [InlineData("ReduceDtype", Sources.ReduceDtype)]
    public void Emitted_text_matches_snapshot_and_compiles_clean(string name, string source)
    {
        var result = GeneratorHarness.Run(("/src/" + name + ".cs", source));
        Assert.True(result.CompileDiagnostics.IsEmpty, string.Join("\n", result.CompileDiagnostics) + "\n" + result.Render());
        Snapshot.Match(result.Render(), name);
    }

    [Fact]
    public void Snapshots_name_no_package_version()
    {
        // The version is told once (Directory.Build.props); the harness scrubs it from [GeneratedCode].
        var files = Directory.GetFiles(SnapshotFolder(), "*.verified.txt");
        Assert.NotEmpty(files);
        var stamped = files.Where(static f => File.ReadAllText(f).Contains("GeneratedCode(", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(stamped);
        Assert.All(stamped, f => Assert.Contains(
            $"GeneratedCode(\"PrecisionPolicy.Generators\", \"{Snapshot.VersionPlaceholder}\")", File.ReadAllText(f), StringComparison.Ordinal));
        Assert.All(files, f => Assert.DoesNotContain(
            $"\"{AutocastGenerator.Emitter.Version}\"", File.ReadAllText(f), StringComparison.Ordinal));
    }

    private static string SnapshotFolder([CallerFilePath] string path = "") => Path.Combine(Path.GetDirectoryName(path)!, "Snapshots");
}
