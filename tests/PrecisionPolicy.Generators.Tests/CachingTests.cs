using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace PrecisionPolicy.Generators.Tests;

/// <summary>The pipeline caches: reruns and unrelated edits reuse outputs; real edits regenerate; no symbols in models.</summary>
public sealed class CachingTests
{
    // Every named step of the pipeline (TrackingNames): each must have outputs in the first run, so no check passes empty.
    private static readonly string[] Steps =
    {
        TrackingNames.Parse, TrackingNames.Specs, TrackingNames.Diagnostics, TrackingNames.Ambient, TrackingNames.AmbientInterceptors,
    };

    // A helper outside every policy (an ambient call site) and a class that draws a diagnostic (PP0103), beside two policy classes.
    private const string Helper = Sources.Usings + """
        namespace Samples;

        public static class Scoring
        {
            public static Tensor Scores(Tensor a, Tensor b) => torch.matmul(a, b.t());
        }
        """;

    private const string Other = "namespace Other; public static class Counting { public static int One() => 1; }";

    private const string Composite = Sources.Usings + """
        namespace Samples;

        [Autocast(Precision.BF16)]
        public sealed partial class WithComposite : Module<Tensor, Tensor>
        {
            private readonly TransformerEncoderLayer layer = TransformerEncoderLayer(8, 2);
            public WithComposite() : base("c") { RegisterComponents(); }
            public override Tensor forward(Tensor x) => layer.call(x);
        }
        """;

    private static (GeneratorDriver Driver, Compilation Compilation) FirstRun()
    {
        var compilation = GeneratorHarness.Compilation(
            ("/src/Block.cs", Sources.TransformerBlock), ("/src/Mlp.cs", Sources.Mlp), ("/src/Scoring.cs", Helper), ("/src/Composite.cs", Composite), ("/src/Other.cs", Other));
        var driver = GeneratorHarness.Driver().RunGenerators(compilation);
        Assert.All(Steps, step => Assert.Contains(Reasons(driver), r => r.Step == step));
        return (driver, compilation);
    }

    private static List<(string Step, IncrementalStepRunReason Reason)> Reasons(GeneratorDriver driver) =>
        driver.GetRunResult().Results.Single().TrackedSteps
            .Where(s => Steps.Contains(s.Key))
            .SelectMany(s => s.Value.SelectMany(run => run.Outputs.Select(o => (s.Key, o.Reason))))
            .ToList();

    private static void AssertAllCachedOrUnchanged(GeneratorDriver driver)
    {
        var reasons = Reasons(driver);
        Assert.All(Steps, step => Assert.Contains(reasons, r => r.Step == step));
        Assert.All(reasons, r => Assert.True(r.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, r.ToString()));
    }

    [Fact]
    public void Every_named_step_is_checked()
    {
        var named = typeof(TrackingNames).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetValue(null)!);
        Assert.Equal(named.Order(StringComparer.Ordinal), Steps.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Rerun_leaves_every_tracked_output_cached_or_unchanged()
    {
        var (driver, compilation) = FirstRun();
        AssertAllCachedOrUnchanged(driver.RunGenerators(compilation.Clone()));
    }

    [Fact]
    public void Unrelated_file_added_leaves_every_tracked_output_cached_or_unchanged()
    {
        var (driver, compilation) = FirstRun();
        var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace Other; public static class Unrelated { public static int Two => 2; }", GeneratorHarness.ParseOptions, "/src/Unrelated.cs"));
        AssertAllCachedOrUnchanged(driver.RunGenerators(edited));
    }

    [Fact]
    public void Body_edit_in_another_file_leaves_every_tracked_output_cached_or_unchanged()
    {
        var (driver, compilation) = FirstRun();
        var tree = compilation.SyntaxTrees.Single(t => t.FilePath == "/src/Other.cs");
        var edited = compilation.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(Other.Replace("=> 1;", "=> 1 + 1;"), GeneratorHarness.ParseOptions, "/src/Other.cs"));
        AssertAllCachedOrUnchanged(driver.RunGenerators(edited));
    }

    [Fact]
    public void Real_edit_is_modified_and_only_in_the_edited_class()
    {
        var (driver, compilation) = FirstRun();
        var tree = compilation.SyntaxTrees.Single(t => t.FilePath == "/src/Mlp.cs");
        var edited = compilation.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(
            Sources.Mlp.Replace("functional.gelu(fc1.call(x))", "functional.softmax(fc1.call(x), -1)"), GeneratorHarness.ParseOptions, "/src/Mlp.cs"));
        driver = driver.RunGenerators(edited);
        var specs = driver.GetRunResult().Results.Single().TrackedSteps[TrackingNames.Specs]
            .SelectMany(run => run.Outputs).ToList();
        Assert.Contains(specs, o => o.Reason == IncrementalStepRunReason.Modified && ((PrecisionPolicy.Generators.Model.PolicySpec)o.Value).TypeName == "Mlp");
        Assert.Contains(specs, o => o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged && ((PrecisionPolicy.Generators.Model.PolicySpec)o.Value).TypeName == "Block");
        var text = driver.GetRunResult().GeneratedTrees.Single(t => t.FilePath.EndsWith("Samples.Mlp.Precision.g.cs", StringComparison.Ordinal)).ToString();
        Assert.Contains("functional.softmax", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Tracked_outputs_hold_no_symbols_syntax_locations_or_compilations()
    {
        var (driver, _) = FirstRun();
        var banned = new[] { typeof(ISymbol), typeof(SyntaxNode), typeof(Location), typeof(Compilation), typeof(SemanticModel), typeof(SyntaxTree) };
        foreach (var step in driver.GetRunResult().Results.Single().TrackedSteps.Where(s => Steps.Contains(s.Key)))
        {
            foreach (var output in step.Value.SelectMany(run => run.Outputs))
                Walk(output.Value, banned, step.Key, new HashSet<object>(ReferenceEqualityComparer.Instance));
        }
    }

    private static void Walk(object? value, Type[] banned, string path, HashSet<object> seen)
    {
        if (value is null) return;
        var type = value.GetType();
        Assert.False(banned.Any(b => b.IsAssignableFrom(type)), $"{path} holds a {type.FullName}");
        if (type.IsPrimitive || type.IsEnum || value is string || type.IsPointer) return;
        if (!type.IsValueType && !seen.Add(value)) return;
        if (value is IEnumerable sequence)
        {
            var i = 0;
            foreach (var item in sequence) Walk(item, banned, $"{path}[{i++}]", seen);
        }
        for (var t = type; t is not null && t != typeof(object); t = t.BaseType)
        {
            foreach (var field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                Walk(field.GetValue(value), banned, path + "." + field.Name, seen);
        }
    }
}
