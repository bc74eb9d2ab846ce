using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using PrecisionPolicy.Generators.Model;
using Xunit;

namespace PrecisionPolicy.Generators.Tests;

/// <summary>
/// What a rerun regenerates, from the driver's step reasons: the generator keeps nothing between runs, so every
/// target is parsed again on each new compilation, and the pipeline stops wherever the parse comes out equal. A
/// new compilation of the same syntax, or a change elsewhere, regenerates nothing; a body edit regenerates only the
/// edited file's class; a helper's new op is cast through the ambient file alone.
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

    private static (GeneratorDriver Driver, Compilation Compilation) FirstRun(params (string Path, string Text)[] extra)
    {
        var sources = Enumerable.Range(0, Files).Select(i => ($"/src/Block{i}.cs", Block(i, "softmax"))).Concat(extra).ToArray();
        var compilation = GeneratorHarness.Compilation(sources);
        return (GeneratorHarness.Driver().RunGenerators(compilation), compilation);
    }

    private static Compilation Replace(Compilation compilation, string path, string text) =>
        compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.Single(t => t.FilePath == path), CSharpSyntaxTree.ParseText(text, GeneratorHarness.ParseOptions, path));

    private static List<(string Type, IncrementalStepRunReason Reason)> SpecReasons(GeneratorDriver driver) =>
        driver.GetRunResult().Results.Single().TrackedSteps[TrackingNames.Specs]
            .SelectMany(run => run.Outputs)
            .Select(o => (((PolicySpec)o.Value).TypeName, o.Reason))
            .ToList();

    private static void AssertNoneModified(List<(string Type, IncrementalStepRunReason Reason)> reasons) =>
        Assert.All(reasons, r => Assert.True(r.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, r.ToString()));

    [Fact]
    public void The_generator_holds_no_state()
    {
        var fields = typeof(AutocastGenerator).GetFields(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic);
        Assert.Empty(fields.Where(f => !f.IsLiteral).Select(f => f.Name));
        Assert.Empty(typeof(AutocastGenerator).GetProperties(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic).Select(p => p.Name));
    }

    [Fact]
    public void One_generator_instance_in_two_drivers_generates_for_each_what_a_fresh_one_does()
    {
        // The IDE may share one instance between projects: nothing of one pipeline may reach the other.
        var generator = new AutocastGenerator();
        static GeneratorDriver DriverOf(IIncrementalGenerator g) => CSharpGeneratorDriver.Create(new[] { g.AsSourceGenerator() }, parseOptions: GeneratorHarness.ParseOptions);
        var softmax = GeneratorHarness.Compilation(("/src/Block0.cs", Block(0, "softmax")));
        var logSoftmax = GeneratorHarness.Compilation(("/src/Block0.cs", Block(0, "log_softmax")));

        var first = DriverOf(generator).RunGenerators(softmax);
        var second = DriverOf(generator).RunGenerators(logSoftmax);
        first = first.RunGenerators(softmax.Clone());

        static string Text(GeneratorDriver d) => d.GetRunResult().GeneratedTrees.Single().ToString();
        Assert.Equal(Text(DriverOf(new AutocastGenerator()).RunGenerators(softmax)), Text(first));
        Assert.Equal(Text(DriverOf(new AutocastGenerator()).RunGenerators(logSoftmax)), Text(second));
        Assert.Contains("functional.log_softmax", Text(second), StringComparison.Ordinal);
    }

    [Fact]
    public void A_new_compilation_of_the_same_trees_regenerates_nothing()
    {
        var (driver, compilation) = FirstRun();

        driver = driver.RunGenerators(compilation.Clone());

        var reasons = SpecReasons(driver);
        Assert.Equal(Files, reasons.Count);
        AssertNoneModified(reasons);
    }

    [Fact]
    public void A_body_edit_regenerates_only_the_edited_files_class()
    {
        var (driver, compilation) = FirstRun();

        driver = driver.RunGenerators(Replace(compilation, "/src/Block3.cs", Block(3, "log_softmax")));

        var reasons = SpecReasons(driver);
        Assert.Equal(new[] { "Block3" }, reasons.Where(r => r.Reason == IncrementalStepRunReason.Modified).Select(r => r.Type));
        AssertNoneModified(reasons.Where(r => r.Type != "Block3").ToList());
        var text = driver.GetRunResult().GeneratedTrees.Single(t => t.FilePath.EndsWith("Bench.Block3.Precision.g.cs", StringComparison.Ordinal)).ToString();
        Assert.Contains("functional.log_softmax", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_declaration_change_in_another_file_parses_every_target_again_and_regenerates_none()
    {
        var other = ("/src/Other.cs", "namespace Bench; public static class Other { public static int One => 1; }");
        var (driver, compilation) = FirstRun(other);

        driver = driver.RunGenerators(Replace(compilation, other.Item1, "namespace Bench; public static class Other { public static int One => 1; public static int Two => 2; }"));

        var reasons = SpecReasons(driver);
        Assert.Equal(Files, reasons.Count);
        AssertNoneModified(reasons);
    }

    [Fact]
    public void A_declaration_change_that_changes_a_binding_regenerates_the_class_that_binds_it()
    {
        // Block0's functional.softmax binds to a method of this compilation once one is declared in scope: the class is
        // parsed again on the new compilation (nothing is remembered from the last one) and its output changes.
        var (driver, compilation) = FirstRun(("/src/Shadow.cs", "namespace Bench; public static class Unused { }"));

        driver = driver.RunGenerators(Replace(compilation, "/src/Shadow.cs", Sources.Usings + """
            namespace Bench;
            public static class functional { public static Tensor softmax(Tensor x, long dim) => x; }
            """));

        var reasons = SpecReasons(driver);
        Assert.Equal(Files, reasons.Count(r => r.Reason == IncrementalStepRunReason.Modified));
        var text = driver.GetRunResult().GeneratedTrees.Single(t => t.FilePath.EndsWith("Bench.Block0.Precision.g.cs", StringComparison.Ordinal)).ToString();
        Assert.DoesNotContain("TorchSharp.torch.nn.functional.softmax", text, StringComparison.Ordinal);
        Assert.Contains("global::Bench.functional.softmax(", text, StringComparison.Ordinal);
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
        var (driver, compilation) = FirstRun(("/src/UsesHelper.cs", caller), ("/src/Helpers.cs", Helper("a")));
        Assert.DoesNotContain(driver.GetRunResult().Diagnostics, d => d.Id == "PP0104");

        driver = driver.RunGenerators(Replace(compilation, "/src/Helpers.cs", Helper("torch.matmul(a, b)")));

        // The caller enters its region at the call whatever the helper's body holds: its output is unchanged. The
        // helper's new matmul gets an interceptor that casts by the region in force where it runs.
        AssertNoneModified(SpecReasons(driver));
        Assert.DoesNotContain(driver.GetRunResult().Diagnostics, d => d.Id == "PP0104");
        var ambient = driver.GetRunResult().GeneratedTrees.Single(t => t.FilePath.EndsWith("PrecisionPolicy.Ambient.Precision.g.cs", StringComparison.Ordinal)).ToString();
        Assert.Contains("global::TorchSharp.torch.matmul(", ambient, StringComparison.Ordinal);
        Assert.Contains("PolicyRegion.Current is not { } __policy", ambient, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("using Mixed = PrecisionPolicy.AutocastAttribute;", "")]
    [InlineData("", "global using Mixed = PrecisionPolicy.AutocastAttribute;")]
    public void An_attribute_named_by_a_using_alias_is_found(string fileAlias, string globalAliasInAnotherFile)
    {
        var result = GeneratorHarness.Run(
            ("/src/Aliases.cs", globalAliasInAnotherFile),
            ("/src/Aliased.cs", Sources.Usings + fileAlias + """

                namespace Bench;

                [Mixed(Precision.BF16)]
                public sealed partial class Aliased : Module<Tensor, Tensor>
                {
                    public Aliased() : base("a") { }
                    public override Tensor forward(Tensor x) => functional.gelu(x);
                }
                """));

        Assert.Contains(result.Run.GeneratedTrees, t => t.FilePath.EndsWith("Bench.Aliased.Precision.g.cs", StringComparison.Ordinal));
        Assert.Empty(result.CompileDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
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
