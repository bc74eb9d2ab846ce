using System.Collections.Generic;
using System.Linq;
using System.Text;
using BenchmarkDotNet.Attributes;
using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace PrecisionPolicy.Benchmarks;

/// <summary>
/// Generator cost for 500 [Autocast] classes (one file each, 6 catalogued calls per class): a cold
/// run, a rerun with nothing changed, and a rerun after an edit to one file's method body.
/// </summary>
/// <remarks>
/// Every run gets a compilation of its own (a clone shares the syntax trees but no bound symbols), as
/// a build or an IDE edit does: reusing one compilation object would let the rerun skip the pipeline
/// outright and let the cold run find symbols bound by the previous iteration. The edit parses a
/// fresh tree each time, so it is new to the generator's memo.
/// </remarks>
[MemoryDiagnoser]
public class GeneratorRunBenchmarks
{
    private const int Classes = 500;
    private static readonly CSharpParseOptions ParseOptions = CSharpParseOptions.Default
        .WithLanguageVersion(LanguageVersion.Preview)
        .WithFeatures(new[] { new KeyValuePair<string, string>("InterceptorsPreviewNamespaces", "PrecisionPolicy.Generated") });

    private CSharpCompilation compilation = null!;
    private GeneratorDriver warm = null!;

    [GlobalSetup]
    public void Setup()
    {
        var references = Net100.References.All.Cast<MetadataReference>()
            .Append(MetadataReference.CreateFromFile(typeof(TorchSharp.torch).Assembly.Location))
            .Append(MetadataReference.CreateFromFile(typeof(PrecisionPolicy.AutocastAttribute).Assembly.Location));
        var trees = Enumerable.Range(0, Classes).Select(i => CSharpSyntaxTree.ParseText(Source(i, "gelu"), ParseOptions, $"/src/Block{i}.cs"));
        compilation = CSharpCompilation.Create("Bench", trees, references, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        warm = NewDriver().RunGenerators(compilation.Clone());
    }

    [Benchmark(Baseline = true)]
    public int ColdRun() => NewDriver().RunGenerators(compilation.Clone()).GetRunResult().GeneratedTrees.Length;

    [Benchmark]
    public int RerunUnchanged() => warm.RunGenerators(compilation.Clone()).GetRunResult().GeneratedTrees.Length;

    [Benchmark]
    public int RerunAfterOneEdit()
    {
        var first = compilation.SyntaxTrees.First();
        var edited = compilation.ReplaceSyntaxTree(first, CSharpSyntaxTree.ParseText(Source(0, "relu"), ParseOptions, first.FilePath));
        return warm.RunGenerators(edited).GetRunResult().GeneratedTrees.Length;
    }


    private GeneratorDriver lookupOnlyWarm = null!;

    [GlobalSetup(Target = nameof(AttributeLookupOnlyRerun))]
    public void LookupOnlySetup()
    {
        Setup();
        lookupOnlyWarm = CSharpGeneratorDriver.Create(new[] { new AttributeLookupOnlyGenerator().AsSourceGenerator() }, parseOptions: ParseOptions)
            .RunGenerators(compilation.Clone());
    }

    /// <summary>For comparison: a ForAttributeWithMetadataName pipeline that does nothing, rerun.</summary>
    [Benchmark]
    public int AttributeLookupOnlyRerun() => lookupOnlyWarm.RunGenerators(compilation.Clone()).GetRunResult().GeneratedTrees.Length;

    private static GeneratorDriver NewDriver() =>
        CSharpGeneratorDriver.Create(new[] { new PrecisionPolicy.Generators.AutocastGenerator().AsSourceGenerator() }, parseOptions: ParseOptions);

    private static string Source(int i, string activation)
    {
        var s = new StringBuilder();
        s.Append("using PrecisionPolicy; using TorchSharp; using TorchSharp.Modules; using static TorchSharp.torch; using static TorchSharp.torch.nn;\n");
        s.Append("namespace Bench;\n");
        s.Append($"[Autocast(Precision.BF16)] public sealed partial class Block{i} : Module<Tensor, Tensor>\n{{\n");
        s.Append("    private readonly LayerNorm norm = LayerNorm(8); private readonly Linear fc1 = Linear(8, 32); private readonly Linear fc2 = Linear(32, 8);\n");
        s.Append($"    public Block{i}() : base(\"b\") {{ RegisterComponents(); }}\n");
        s.Append($"    public override Tensor forward(Tensor x) {{ var h = fc2.call(functional.{activation}(fc1.call(norm.call(x)))); return functional.softmax(torch.matmul(h, h.t()), -1).sum(); }}\n}}\n");
        return s.ToString();
    }
}
