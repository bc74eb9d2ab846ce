using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using PrecisionPolicy.Generators.Model;
using Xunit;

namespace PrecisionPolicy.Generators.Tests;

/// <summary>
/// Work done per run, counted rather than timed: a new compilation with the same syntax parses no
/// target again, a body edit re-parses only the edited file's classes, and a change other files can
/// see (a declaration, a helper's body the parse read) re-parses what depends on it.
/// </summary>
public sealed class IncrementalityTests
{
    private const int Files = 12;

    private static string Block(int i, string fp32Op) => Sources.Usings + $$"""
        namespace Bench;

        [Autocast(Precision.BF16)]
        public sealed partial class Block{{i}} : Module<Tensor, Tensor>
        {
            private readonly Linear fc = Linear(8, 8);
            public Block{{i}}() : base("b") { RegisterComponents(); }
            public override Tensor forward(Tensor x) => functional.{{fp32Op}}(fc.call(x), -1);
        }
        """;

    private static (AutocastGenerator Generator, GeneratorDriver Driver, Compilation Compilation) FirstRun(params (string Path, string Text)[] extra)
    {
        var sources = Enumerable.Range(0, Files).Select(i => ($"/src/Block{i}.cs", Block(i, "softmax"))).Concat(extra).ToArray();
        var compilation = GeneratorHarness.Compilation(sources);
        var generator = new AutocastGenerator();
        var driver = CSharpGeneratorDriver.Create(
            new[] { generator.AsSourceGenerator() },
            parseOptions: GeneratorHarness.ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        return (generator, driver.RunGenerators(compilation), compilation);
    }

    private static Compilation Replace(Compilation compilation, string path, string text) =>
        compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.Single(t => t.FilePath == path), CSharpSyntaxTree.ParseText(text, GeneratorHarness.ParseOptions, path));

    private static List<(string Type, IncrementalStepRunReason Reason)> SpecReasons(GeneratorDriver driver) =>
        driver.GetRunResult().Results.Single().TrackedSteps[TrackingNames.Specs]
            .SelectMany(run => run.Outputs)
            .Select(o => (((PolicySpec)o.Value).TypeName, o.Reason))
            .ToList();

    [Fact]
    public void A_new_compilation_of_the_same_trees_parses_no_target_again()
    {
        var (generator, driver, compilation) = FirstRun();
        Assert.Equal(Files, generator.Memo!.FreshParses);

        driver = driver.RunGenerators(compilation.Clone());

        Assert.Equal(Files, generator.Memo.FreshParses);
        var reasons = SpecReasons(driver);
        Assert.Equal(Files, reasons.Count);
        Assert.All(reasons, r => Assert.True(r.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, r.ToString()));
    }

    [Fact]
    public void A_body_edit_parses_only_the_edited_files_class_and_regenerates_only_its_output()
    {
        var (generator, driver, compilation) = FirstRun();

        driver = driver.RunGenerators(Replace(compilation, "/src/Block3.cs", Block(3, "log_softmax")));

        Assert.Equal(Files + 1, generator.Memo!.FreshParses);
        var reasons = SpecReasons(driver);
        Assert.Equal(new[] { "Block3" }, reasons.Where(r => r.Reason == IncrementalStepRunReason.Modified).Select(r => r.Type));
        Assert.All(reasons.Where(r => r.Type != "Block3"), r => Assert.True(r.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, r.ToString()));
        var text = driver.GetRunResult().GeneratedTrees.Single(t => t.FilePath.EndsWith("Bench.Block3.Precision.g.cs", StringComparison.Ordinal)).ToString();
        Assert.Contains("functional.log_softmax", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_declaration_change_in_another_file_parses_every_target_again()
    {
        var other = ("/src/Other.cs", "namespace Bench; public static class Other { public static int One => 1; }");
        var (generator, driver, compilation) = FirstRun(other);

        // A new member can change what any call binds to, so no earlier parse is trusted.
        driver.RunGenerators(Replace(compilation, other.Item1, "namespace Bench; public static class Other { public static int One => 1; public static int Two => 2; }"));

        Assert.Equal(2 * Files, generator.Memo!.FreshParses);
    }

    [Fact]
    public void An_edit_to_a_helper_body_the_region_calls_leaves_its_caller_and_casts_by_the_region()
    {
        const string caller = Sources.Usings + """
            namespace Bench;

            [Autocast(Precision.BF16)]
            public sealed partial class UsesHelper : Module<Tensor, Tensor>
            {
                public UsesHelper() : base("u") { }
                public override Tensor forward(Tensor x) => Helpers.Scores(x, x);
            }
            """;
        static string Helper(string body) => Sources.Usings + "namespace Bench; public static class Helpers { public static Tensor Scores(Tensor a, Tensor b) => " + body + "; }";
        var (generator, driver, compilation) = FirstRun(("/src/UsesHelper.cs", caller), ("/src/Helpers.cs", Helper("a")));
        Assert.DoesNotContain(driver.GetRunResult().Diagnostics, d => d.Id == "PP0104");

        driver = driver.RunGenerators(Replace(compilation, "/src/Helpers.cs", Helper("torch.matmul(a, b)")));

        // The caller enters its region at the call whatever the helper's body holds: it is not parsed again. The
        // helper's new matmul gets an interceptor that casts by the region in force where it runs.
        Assert.Equal(Files + 1, generator.Memo!.FreshParses);
        Assert.DoesNotContain(driver.GetRunResult().Diagnostics, d => d.Id == "PP0104");
        var ambient = driver.GetRunResult().GeneratedTrees.Single(t => t.FilePath.EndsWith("PrecisionPolicy.Ambient.Precision.g.cs", StringComparison.Ordinal)).ToString();
        Assert.Contains("global::TorchSharp.torch.matmul(", ambient, StringComparison.Ordinal);
        Assert.Contains("PolicyRegion.Current is not { } __policy", ambient, StringComparison.Ordinal);
    }

    [Fact]
    public void An_attribute_named_by_a_using_alias_of_the_file_is_found()
    {
        var result = GeneratorHarness.Run(("/src/Aliased.cs", Sources.Usings + """
            using Mixed = PrecisionPolicy.AutocastAttribute;
            namespace Bench;

            [Mixed(Precision.BF16)]
            public sealed partial class Aliased : Module<Tensor, Tensor>
            {
                public Aliased() : base("a") { }
                public override Tensor forward(Tensor x) => functional.gelu(x);
            }
            """));

        Assert.Contains(result.Run.GeneratedTrees, t => t.FilePath.EndsWith("Bench.Aliased.Precision.g.cs", StringComparison.Ordinal));
    }

    [Fact]
    public void Another_attribute_named_autocast_generates_nothing()
    {
        var result = GeneratorHarness.Run(("/src/Elsewhere.cs", Sources.Usings + """
            namespace Elsewhere
            {
                [System.AttributeUsage(System.AttributeTargets.Class)] public sealed class AutocastAttribute : System.Attribute { public AutocastAttribute(int level) { } }
                [Autocast(1)] public sealed partial class NotOurs : Module<Tensor, Tensor>
                {
                    public NotOurs() : base("n") { }
                    public override Tensor forward(Tensor x) => functional.gelu(x);
                }
            }
            """));

        Assert.Empty(result.Run.GeneratedTrees);
        Assert.Empty(result.CompileDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
    }
}
