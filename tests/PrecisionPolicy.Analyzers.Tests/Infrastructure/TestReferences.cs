using System;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Testing;

namespace PrecisionPolicy.Analyzers.Tests.Infrastructure;

/// <summary>
/// Compilation references that need no network: the .NET 10 reference assemblies embedded in
/// Basic.Reference.Assemblies, TorchSharp and PrecisionPolicy from the test's own output folder.
/// </summary>
internal static class TestReferences
{
    /// <summary>
    /// A reference set with no NuGet package: the testing library resolves it to nothing and never
    /// opens a feed. Every reference comes from <see cref="All"/> instead.
    /// </summary>
    public static readonly ReferenceAssemblies NoPackages = new("net10.0");

    public static readonly ImmutableArray<MetadataReference> All = CreateAll();

    private static ImmutableArray<MetadataReference> CreateAll()
    {
        var references = Basic.Reference.Assemblies.Net100.References.All
            .Cast<MetadataReference>()
            .Append(MetadataReference.CreateFromFile(typeof(TorchSharp.torch).Assembly.Location))
            .Append(MetadataReference.CreateFromFile(typeof(Precision).Assembly.Location));

        // MasterWeightOptimizer is being written on another branch; until it is in the runtime
        // library the tests compile a stand-in with the members the rules look at.
        return typeof(Precision).Assembly.GetType("PrecisionPolicy.Optimization.MasterWeightOptimizer") is null
            ? references.Append(CompileStandIns(references)).ToImmutableArray()
            : references.ToImmutableArray();
    }

    private static MetadataReference CompileStandIns(System.Collections.Generic.IEnumerable<MetadataReference> references)
    {
        const string source = """
            namespace PrecisionPolicy
            {
                public sealed class StepOutcome
                {
                    public bool Applied { get; init; }
                }

                public sealed class MasterWeightOptimizer
                {
                    public double MaxGradNorm { get; set; }
                    public void Backward(TorchSharp.torch.Tensor loss) { }
                    public StepOutcome Step() => new();
                    public StepOutcome Step(TorchSharp.torch.Tensor loss) => new();
                    public void AttachScheduler(TorchSharp.torch.optim.lr_scheduler.LRScheduler scheduler) { }
                }
            }
            """;
        var compilation = CSharpCompilation.Create(
            "PrecisionPolicy.StandIns",
            [CSharpSyntaxTree.ParseText(source)],
            references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        using var stream = new MemoryStream();
        var result = compilation.Emit(stream);
        if (!result.Success)
        {
            throw new InvalidOperationException(string.Join(Environment.NewLine, result.Diagnostics));
        }

        return MetadataReference.CreateFromImage(stream.ToArray());
    }
}
