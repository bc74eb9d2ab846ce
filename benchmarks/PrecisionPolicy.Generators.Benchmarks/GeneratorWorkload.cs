using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace PrecisionPolicy.Benchmarks;

/// <summary>
/// 500 [Autocast] classes (one file each, 6 catalogued calls per class) and the three runs the generator
/// benchmarks time: a cold run, a rerun with nothing changed, and a rerun after an edit to one file's method body.
/// </summary>
/// <remarks>
/// Every run gets a compilation of its own (a clone shares the syntax trees but no bound symbols), as a build or
/// an IDE edit does: reusing one compilation object would let the rerun skip the pipeline outright and let the
/// cold run find symbols bound by the previous iteration. The edit parses a fresh tree each time.
/// </remarks>
internal sealed class GeneratorWorkload
{
    public const int Classes = 500;

    public static readonly CSharpParseOptions ParseOptions = CSharpParseOptions.Default
        .WithLanguageVersion(LanguageVersion.Preview)
        .WithFeatures(new[] { new KeyValuePair<string, string>("InterceptorsPreviewNamespaces", "PrecisionPolicy.Generated") });

    private static readonly Lazy<CSharpCompilation> SharedCompilation = new(CreateCompilation);

    private readonly Func<IIncrementalGenerator> generator;
    private readonly GeneratorDriver warm;

    /// <param name="generator">A new instance of the generator under test, for each driver.</param>
    public GeneratorWorkload(Func<IIncrementalGenerator> generator)
    {
        this.generator = generator;
        warm = NewDriver().RunGenerators(Compilation.Clone());
    }

    /// <summary>The 500 classes (one compilation, shared by every workload).</summary>
    public static CSharpCompilation Compilation => SharedCompilation.Value;

    /// <summary>A new driver on a new compilation: the generated file count.</summary>
    public int ColdRun() => NewDriver().RunGenerators(Compilation.Clone()).GetRunResult().GeneratedTrees.Length;

    /// <summary>The warm driver on a new compilation of the same trees.</summary>
    public int RerunUnchanged() => warm.RunGenerators(Compilation.Clone()).GetRunResult().GeneratedTrees.Length;

    /// <summary>The warm driver after one class's forward changed (gelu to relu).</summary>
    public int RerunAfterOneEdit()
    {
        var first = Compilation.SyntaxTrees.First();
        var edited = Compilation.ReplaceSyntaxTree(first, CSharpSyntaxTree.ParseText(Source(0, "relu"), ParseOptions, first.FilePath));
        return warm.RunGenerators(edited).GetRunResult().GeneratedTrees.Length;
    }

    private GeneratorDriver NewDriver() =>
        CSharpGeneratorDriver.Create(new[] { generator().AsSourceGenerator() }, parseOptions: ParseOptions);

    private static CSharpCompilation CreateCompilation()
    {
        var references = Net100.References.All.Cast<MetadataReference>()
            .Append(MetadataReference.CreateFromFile(typeof(TorchSharp.torch).Assembly.Location))
            .Append(MetadataReference.CreateFromFile(typeof(PrecisionPolicy.AutocastAttribute).Assembly.Location));
        var trees = Enumerable.Range(0, Classes).Select(i => CSharpSyntaxTree.ParseText(Source(i, "gelu"), ParseOptions, $"/src/Block{i}.cs"));
        return CSharpCompilation.Create("Bench", trees, references, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
    }

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
