using System;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;
using Xunit;

namespace PrecisionPolicy.Generators.Tests;

/// <summary>What cannot be generated is a diagnostic, never an exception or broken output.</summary>
public sealed class DiagnosticTests
{
    private static GeneratorHarness.Result Run(string body) => GeneratorHarness.Run(("/src/Test.cs", Sources.Usings + body));

    private static void AssertNoException(GeneratorHarness.Result result) =>
        Assert.All(result.Run.Results, r => Assert.Null(r.Exception));

    [Theory]
    [InlineData("PP0102", "public partial class Outer<T> { [Autocast(Precision.BF16)] public sealed partial class Inner : Module<Tensor, Tensor> { public Inner() : base(\"x\") { } public override Tensor forward(Tensor x) => x; } }")]
    [InlineData("PP0106", "public static class Fp8Helpers { [Autocast(Precision.FP8)] public static Tensor Mm(Tensor a, Tensor b) => torch.mm(a, b); }")]
    public void Unsupported_classes_get_one_diagnostic_and_no_source(string id, string body)
    {
        var result = Run(body);
        AssertNoException(result);
        Assert.Equal(id, Assert.Single(result.GeneratorDiagnostics).Id);
        Assert.Empty(result.Run.GeneratedTrees);
    }

    [Theory]
    [InlineData("[Autocast(Precision.] public sealed partial class Broken : Module<Tensor, Tensor> { }")]
    [InlineData("[Autocast] public sealed partial class NoArgument : Module<Tensor, Tensor> { public NoArgument() : base(\"x\") { } public override Tensor forward(Tensor x) => x; }")]
    [InlineData("[Autocast((Precision)42)] public sealed partial class OutOfRange : Module<Tensor, Tensor> { public OutOfRange() : base(\"x\") { } public override Tensor forward(Tensor x) => x; }")]
    [InlineData("[Autocast(Precision.BF16)] public sealed partial class Unknown : Module<Tensor, Tensor> { public Unknown() : base(\"x\") { } public override Tensor forward(Tensor x) => torch.frobnicate(x) + x.matmul(; }")]
    [InlineData("[Autocast(Precision.BF16)] public sealed partial class Half : Module<Tensor, Tensor> { public override Tensor forward(Tensor x) => torch.matmul(x, ")]
    public void Incomplete_code_never_throws(string body)
    {
        var result = Run(body);
        AssertNoException(result);
        Assert.DoesNotContain(result.Output.GetDiagnostics(), d => d.Id.StartsWith("CS9", StringComparison.Ordinal) && d.Severity == DiagnosticSeverity.Error
            && d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true);
    }

    [Fact]
    public void A_helper_the_region_calls_runs_under_the_region_and_a_generic_one_is_reported()
    {
        const string model = """
            [Autocast(Precision.BF16)]
            public sealed partial class UsesHelper : Module<Tensor, Tensor>
            {
                public UsesHelper() : base("x") { }
                public override Tensor forward(Tensor x) => Helpers.Scores(x, x) + Helpers.Generic<int>(x, x);
            }
            """;
        var result = Run(model + "public static class Helpers { public static Tensor Scores(Tensor a, Tensor b) => torch.matmul(a, b).softmax(-1); public static Tensor Generic<T>(Tensor a, Tensor b) => torch.matmul(a, b); }");
        AssertNoException(result);
        Assert.Empty(result.CompileDiagnostics);

        // The generic helper cannot be intercepted: reported, naming its ops.
        var diagnostic = Assert.Single(result.GeneratorDiagnostics);
        Assert.Equal("PP0104", diagnostic.Id);
        Assert.Contains("Helpers.Generic", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("torch.matmul", diagnostic.GetMessage(), StringComparison.Ordinal);

        // The other enters the BF16 region for its call; its matmul and softmax cast by the region in force.
        var policy = result.Run.GeneratedTrees.Single(t => t.FilePath.EndsWith("UsesHelper.Precision.g.cs", StringComparison.Ordinal)).ToString();
        Assert.Contains("PolicyRegion.Enter(global::TorchSharp.torch.ScalarType.BFloat16)", policy, StringComparison.Ordinal);
        Assert.Contains("return global::Helpers.Scores(a, b);", policy, StringComparison.Ordinal);
        var ambient = result.Run.GeneratedTrees.Single(t => t.FilePath.EndsWith("PrecisionPolicy.Ambient.Precision.g.cs", StringComparison.Ordinal)).ToString();
        Assert.Contains("__policy.LowPrecision(input)", ambient, StringComparison.Ordinal);
        Assert.Contains("Tensor.softmax", ambient, StringComparison.Ordinal);
    }

    [Fact]
    public void A_custom_entry_point_gets_the_output_policy_or_a_diagnostic()
    {
        var result = Run("""
            [Autocast(Precision.BF16)]
            public sealed partial class TextClassifier : Module<Tensor, Tensor, Tensor>
            {
                private readonly Linear fc = Linear(4, 2);
                public TextClassifier() : base("t") { RegisterComponents(); }
                public override Tensor forward(Tensor input, Tensor offsets) => fc.call(input);
                public Tensor call(Tensor input) => forward(input, input);
                public (Tensor, Tensor) Both(Tensor input) => (forward(input, input), input);
            }
            """);
        AssertNoException(result);
        Assert.Empty(result.CompileDiagnostics);
        Assert.Empty(result.GeneratorDiagnostics);
        var policy = result.Run.GeneratedTrees.Single(t => t.FilePath.EndsWith("TextClassifier.Precision.g.cs", StringComparison.Ordinal)).ToString();
        // Both direct calls of forward share one interceptor that applies the output policy call(...)'s hook would.
        var block = policy[policy.IndexOf("// TextClassifier.forward (forward called directly", StringComparison.Ordinal)..];
        block = block[..block.IndexOf("{", StringComparison.Ordinal)];
        Assert.Equal(2, block.Split("InterceptsLocation(").Length - 1);
        Assert.Contains("PolicyCasts.DirectForwardOutput(self, self.forward(input, offsets))", policy, StringComparison.Ordinal);
    }

    [Fact]
    public void Forward_on_an_inaccessible_module_type_is_reported()
    {
        var result = Run("""
            [Autocast(Precision.BF16)]
            public sealed partial class Host : Module<Tensor, Tensor>
            {
                [HighPrecision] private readonly Hidden hidden = new Hidden();
                public Host() : base("x") { RegisterComponents(); }
                public override Tensor forward(Tensor x) => hidden.forward(x) + hidden.call(x);

                private sealed class Hidden : Module<Tensor, Tensor>
                {
                    public Hidden() : base("h") { }
                    public override Tensor forward(Tensor x) => x;
                }
            }
            """);
        AssertNoException(result);
        Assert.Equal("PP0105", Assert.Single(result.GeneratorDiagnostics).Id);
        Assert.Empty(result.CompileDiagnostics);
        Assert.Contains("[HighPrecision] member 'hidden'", result.Render(), StringComparison.Ordinal); // the call(...) is intercepted
    }

    [Fact]
    public void Catalogued_op_passed_as_a_delegate_is_reported()
    {
        var result = Run("""
            [Autocast(Precision.BF16)]
            public sealed partial class Delegates : Module<Tensor, Tensor>
            {
                private readonly Func<Tensor, Tensor> activation = torch.exp;
                public Delegates() : base("x") { }
                public override Tensor forward(Tensor x) => activation(x) + torch.exp(x);
            }
            """);
        AssertNoException(result);
        var diagnostic = Assert.Single(result.GeneratorDiagnostics);
        Assert.Equal("PP0105", diagnostic.Id);
        Assert.Contains("torch.exp", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Empty(result.CompileDiagnostics);
    }

    [Theory]
    [InlineData("[Autocast(Precision.BF16)] public sealed class NotPartial : Module<Tensor, Tensor> { public NotPartial() : base(\"x\") { } public override Tensor forward(Tensor x) => x; }")]
    [InlineData("public class Plain { [Autocast(Precision.BF16)] public sealed partial class Inner : Module<Tensor, Tensor> { public Inner() : base(\"x\") { } public override Tensor forward(Tensor x) => x; } }")]
    public void Non_partial_module_classes_get_no_source_and_leave_the_report_to_the_analyzers(string body)
    {
        var result = Run(body);
        AssertNoException(result);
        Assert.Empty(result.GeneratorDiagnostics); // PP0010 (analyzer, with a code fix) reports it
        Assert.Empty(result.Run.GeneratedTrees);
    }

    [Fact]
    public void Helper_class_that_is_not_a_module_gets_interceptors_and_no_generator_diagnostic()
    {
        var result = Run("""
            [Autocast(Precision.BF16)]
            public static class AttentionMath
            {
                public static Tensor Scores(Tensor q, Tensor k) => torch.matmul(q, k.transpose(-2, -1)).softmax(-1);
            }
            """);
        AssertNoException(result);
        Assert.Empty(result.GeneratorDiagnostics); // PP0011 (analyzer, info) notes it gets no plumbing
        Assert.Empty(result.CompileDiagnostics);
        var text = Assert.Single(result.Run.GeneratedTrees).ToString();
        Assert.Contains("torch.matmul (low precision", text, StringComparison.Ordinal);
        Assert.Contains("Tensor.softmax (fp32", text, StringComparison.Ordinal);
        Assert.DoesNotContain("ApplyPrecisionPolicy", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Composite_inside_a_container_is_reported_at_its_member()
    {
        var result = Run("""
            [Autocast(Precision.FP16)]
            public sealed partial class Encoder : Module<Tensor, Tensor>
            {
                private readonly TransformerEncoderLayer layer = TransformerEncoderLayer(16, 2);
                [HighPrecision] private readonly TransformerEncoderLayer precise = TransformerEncoderLayer(16, 2);
                private readonly Sequential body;
                public Encoder() : base("x") { body = Sequential(("layer", layer)); RegisterComponents(); }
                public override Tensor forward(Tensor x) => precise.call(body.call(x));
            }
            """);
        AssertNoException(result);
        var diagnostic = Assert.Single(result.GeneratorDiagnostics);
        Assert.Equal("PP0103", diagnostic.Id);
        Assert.Contains("'layer'", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("Float16", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void Partial_parts_in_two_files_are_both_intercepted_in_one_generated_file()
    {
        var result = GeneratorHarness.Run(
            ("/src/A.cs", Sources.Usings + """
                [Autocast(Precision.BF16)]
                public sealed partial class Split : Module<Tensor, Tensor>
                {
                    public Split() : base("x") { }
                    public override Tensor forward(Tensor x) => Scores(torch.mm(x, x.t()));
                }
                """),
            ("/src/B.cs", Sources.Usings + """
                public sealed partial class Split
                {
                    private static Tensor Scores(Tensor s) => functional.softmax(s, -1);
                }
                """));
        AssertNoException(result);
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompileDiagnostics);
        var text = Assert.Single(result.Run.GeneratedTrees).ToString();
        Assert.Contains("// A.cs(", text, StringComparison.Ordinal);
        Assert.Contains("// B.cs(", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_diagnostic_has_a_doc_page_and_help_link()
    {
        var root = RepoRoot();
        foreach (var descriptor in DiagnosticDescriptors.All.Values)
        {
            var page = Path.Combine(root, "docs", "rules", descriptor.Id + ".md");
            Assert.True(File.Exists(page), page);
            var text = File.ReadAllText(page);
            Assert.StartsWith("# " + descriptor.Id + " - " + descriptor.Title + "\n", text.Replace("\r\n", "\n"), StringComparison.Ordinal);
            foreach (var section in new[] { "## Why", "## Non-compliant", "## Compliant", "## Configuration" })
                Assert.Contains(section, text, StringComparison.Ordinal);
            Assert.EndsWith("docs/rules/" + descriptor.Id + ".md", descriptor.HelpLinkUri, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Cast_policy_doc_is_rendered_from_the_catalogue()
    {
        var path = Path.Combine(RepoRoot(), "docs", "cast-policy.md");
        var expected = CastPolicyPage.Render();
        if (Environment.GetEnvironmentVariable(Snapshot.AcceptVariable) == "1") File.WriteAllText(path, expected);
        Assert.True(File.Exists(path) && File.ReadAllText(path).Replace("\r\n", "\n") == expected,
            $"docs/cast-policy.md is out of date: rerun with {Snapshot.AcceptVariable}=1 to render it from the shared catalogue.");
    }

    private static string RepoRoot([CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", ".."));
}
