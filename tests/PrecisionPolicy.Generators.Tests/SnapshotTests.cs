using System.Linq;
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
    public void Emitted_text_matches_snapshot_and_compiles_clean(string name, string source)
    {
        var result = GeneratorHarness.Run(("/src/" + name + ".cs", source));
        Assert.True(result.CompileDiagnostics.IsEmpty, string.Join("\n", result.CompileDiagnostics) + "\n" + result.Render());
        Snapshot.Match(result.Render(), name);
    }
}
