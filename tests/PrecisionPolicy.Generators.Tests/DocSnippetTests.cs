using System;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using PrecisionPolicy.Tests.Shared;
using Xunit;

namespace PrecisionPolicy.Generators.Tests;

/// <summary>
/// Every C# block of the guides in docs/ compiles, with the generator, in the context its invisible
/// <c>&lt;!-- snippet: ... --&gt;</c> comment gives it (the convention is <see cref="DocSnippets"/>'): a rename in
/// the API fails here instead of leaving a guide silently wrong. One compilation holds every snippet.
/// The rule pages (docs/rules/) are not compiled here: their blocks are checked against their rule by
/// RulePageExampleTests in the analyzer tests, with the same parser.
/// </summary>
public sealed class DocSnippetTests
{
    [Fact]
    public void Guide_snippets_compile_with_the_generator()
    {
        var snippets = DocSnippets.All("docs").Where(s => s.Kind != "skip").ToList();
        Assert.True(snippets.Count >= 15, $"found only {snippets.Count} C# blocks in docs/*.md: is the extraction broken?");
        var sources = snippets.Select((s, i) => ($"/snippets/S{i:D2}.cs", s.Source(i))).ToArray();

        // A reader's project also has the MPI satellite package (the distributed guide) and what the package's
        // public constructors name (GradScaler's optional ILogger).
        var compilation = GeneratorHarness.Compilation(sources).AddReferences(
            MetadataReference.CreateFromFile(typeof(PrecisionPolicy.Mpi.MpiCommunicator).Assembly.Location),
            MetadataReference.CreateFromFile(typeof(Microsoft.Extensions.Logging.ILogger).Assembly.Location));
        var result = GeneratorHarness.Run(compilation);

        // Warnings count too: a guide that shows an obsolete member is as wrong as one that does not compile.
        var problems = result.CompileDiagnostics
            .Concat(result.GeneratorDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning))
            .Select(d => d.ToString())
            .ToList();
        Assert.True(problems.Count == 0, $"{problems.Count} problem(s) in the guides' C# blocks:\n" + string.Join('\n', problems));
        // The generator saw the snippets' models: what they call on them (ApplyPrecisionPolicy, TrainStep) is its output.
        Assert.Contains(result.Run.GeneratedTrees, t => t.ToString().Contains("ApplyPrecisionPolicy()", StringComparison.Ordinal));
    }

    [Fact]
    public void Guide_snippet_comments_use_known_kinds_and_skips_give_a_reason()
    {
        var snippets = DocSnippets.All("docs");
        Assert.All(snippets, s => Assert.True(DocSnippets.Kinds.Contains(s.Kind), $"{s.Where}: unknown snippet kind '{s.Kind}' (one of {string.Join(", ", DocSnippets.Kinds)})"));
        Assert.All(snippets.Where(s => s.Kind == "skip"), s => Assert.False(string.IsNullOrWhiteSpace(s.Get("reason")), $"{s.Where}: a skipped C# block says why"));
        Assert.All(snippets, s => Assert.All(s.Keys.Keys, k => Assert.Contains(k, DocSnippets.KeyNames)));
    }

    [Fact]
    public void Snippet_comment_gives_context_and_an_unmarked_block_is_statements()
    {
        const string page = """
            Text.
            <!-- snippet: statements; given: Tensor x, Tensor y; usings: PrecisionPolicy.Scaling -->
            ```csharp
            var z = x + y;
            ```
            ```csharp
            var w = 1;
            ```
            <!-- snippet: skip; reason: output; not code -->
            ```csharp
            step 1: loss 0.5
            ```
            """;

        var snippets = DocSnippets.Parse("page.md", page).ToList();

        Assert.Equal(["statements", "statements", "skip"], snippets.Select(s => s.Kind));
        Assert.Equal([3, 6, 10], snippets.Select(s => s.Line));
        Assert.Equal("Tensor x, Tensor y", snippets[0].Get("given"));
        Assert.Equal("PrecisionPolicy.Scaling", snippets[0].Get("usings"));
        Assert.Empty(snippets[1].Keys);
        Assert.Equal("output; not code", snippets[2].Get("reason"));
        Assert.Contains("public static void Run(Tensor x, Tensor y)", snippets[0].Source(0), StringComparison.Ordinal);
        Assert.Contains("using PrecisionPolicy.Scaling;", snippets[0].Source(0), StringComparison.Ordinal);
    }

    [Fact]
    public void Members_snippet_puts_types_fields_methods_and_statements_where_a_file_holds_them()
    {
        const string page = """
            ## Non-compliant code
            <!-- snippet: members; given: Tensor x; in: public partial class Host : nn.Module<Tensor, Tensor>; after: private const int n = 8; -->
            ```csharp
            [Autocast(Precision.FP16)]
            public sealed partial class Net : Module<Tensor, Tensor> { ... }

            var y = x.half();
            [HighPrecision] private Tensor v = torch.zeros(n);
            Tensor Denominator() => v.sqrt();
            ```
            """;

        var snippet = Assert.Single(DocSnippets.Parse("page.md", page));
        var tree = CSharpSyntaxTree.ParseText(snippet.Source(0));
        var root = tree.GetCompilationUnitRoot();

        Assert.Equal("Non-compliant code", snippet.Section);
        Assert.Empty(root.DescendantNodes().OfType<GlobalStatementSyntax>());
        var host = root.DescendantNodes().OfType<ClassDeclarationSyntax>().Single(c => c.Identifier.Text == "Host");
        Assert.Equal(["v", "n"], host.Members.OfType<FieldDeclarationSyntax>().Select(f => f.Declaration.Variables[0].Identifier.Text));
        Assert.Equal(["Denominator", "Run"], host.Members.OfType<MethodDeclarationSyntax>().Select(m => m.Identifier.Text));
        Assert.Contains("var y = x.half();", host.Members.OfType<MethodDeclarationSyntax>().Last().Body!.ToString(), StringComparison.Ordinal);
        // The elided module body was filled, and the type stays outside the host class.
        Assert.Contains(root.Members.OfType<BaseNamespaceDeclarationSyntax>().Single().Members.OfType<ClassDeclarationSyntax>(), c => c.Identifier.Text == "Net" && c.Members.Count > 0);
        // Each piece keeps the page line it came from: the statement (page line 7) comes after the blank line 6.
        Assert.Contains("#line 6 \"docs/page.md\"\n\nvar y = x.half();", snippet.Source(0).Replace("\r\n", "\n"), StringComparison.Ordinal);
    }

    [Fact]
    public void Or_lines_cut_a_block_into_alternatives_and_comment_only_parts_are_left_out()
    {
        const string page = """
            <!-- snippet: statements; given: Tensor loss -->
            ```csharp
            var outcome = Step(loss);

            // or
            var outcome = Other(loss);
            // or simply nothing: a comment
            ```
            """;

        var alternatives = Assert.Single(DocSnippets.Parse("page.md", page)).Alternatives().ToList();

        Assert.Equal([2, 5], alternatives.Select(a => a.Line));
        Assert.Equal(["var outcome = Step(loss);\n", "var outcome = Other(loss);"], alternatives.Select(a => a.Code));
    }
}
