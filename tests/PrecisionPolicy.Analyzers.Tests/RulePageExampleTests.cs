using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using PrecisionPolicy.Tests.Shared;
using Xunit;
using Xunit.Abstractions;

namespace PrecisionPolicy.Analyzers.Tests;

/// <summary>
/// The examples of the rule pages (docs/rules/PPxxxx.md) say what their rule does: each block under
/// "Non-compliant" compiles, with the generator, and gets the page's rule from the analyzers or the generator;
/// each block under "Compliant" compiles and does not (a block of alternatives, each after a <c>// or</c> line,
/// is checked one alternative at a time). A block takes its context (the variables a fragment uses,
/// the class its members belong to) from the invisible snippet comment above its fence (<see cref="DocSnippets"/>).
/// </summary>
public sealed class RulePageExampleTests(ITestOutputHelper output)
{
    /// <summary>At most this many blocks of all the rule pages may be skipped: a skip is for an example that cannot be code.</summary>
    private const int MaxSkipped = 3;

    private static readonly ImmutableArray<DiagnosticAnalyzer> Analyzers = ShippedComponents.Analyzers();

    // "advice: overflow of Linear at fc.call": the numerics trace found an overflow at that call (PP0030's input).
    private static readonly Regex Advice = new(@"^(?<finding>\w+) of (?<op>\S+) at (?<call>\S+)$");

    private static string Folder => Path.Combine(RepositorySources.FindRoot(), "docs", "rules");

    /// <summary>The rule ids that have a page, one theory row each.</summary>
    public static TheoryData<string> Pages() => new(PageIds());

    private static IReadOnlyList<string> PageIds() =>
        Directory.EnumerateFiles(Folder, "PP*.md").Order(StringComparer.Ordinal).Select(static f => Path.GetFileNameWithoutExtension(f)).ToList();

    private static IReadOnlyList<DocSnippets.Snippet> Snippets(string id) =>
        DocSnippets.Parse($"rules/{id}.md", File.ReadAllText(Path.Combine(Folder, id + ".md"))).ToList();

    [Theory]
    [MemberData(nameof(Pages))]
    public async Task Rule_page_examples_report_the_rule_only_where_non_compliant(string id)
    {
        var snippets = Snippets(id);
        var failures = new List<string>();
        int nonCompliant = 0, compliant = 0;
        for (var index = 0; index < snippets.Count; index++)
        {
            var snippet = snippets[index];
            if (snippet.Kind == "skip")
            {
                output.WriteLine($"{snippet.Where}: skipped, {snippet.Get("reason")}");
                continue;
            }

            var expected = snippet.Section.StartsWith("Non-compliant", StringComparison.Ordinal);
            if (!expected && !snippet.Section.StartsWith("Compliant", StringComparison.Ordinal))
            {
                failures.Add($"{snippet.Where}: a C# block under '## {snippet.Section}', neither non-compliant nor compliant");
                continue;
            }

            foreach (var alternative in snippet.Alternatives())
            {
                var (problems, reported) = await Check(alternative, index);
                output.WriteLine($"{alternative.Where} ({alternative.Section}) gets: {string.Join(", ", reported.Order(StringComparer.Ordinal))}");
                failures.AddRange(problems.Select(p => $"{alternative.Where} ({alternative.Section}): {p}"));
                if (expected && !reported.Contains(id))
                {
                    failures.Add($"{alternative.Where}: the non-compliant example does not get {id} (it gets: {string.Join(", ", reported.DefaultIfEmpty("nothing"))})");
                }
                else if (!expected && reported.Contains(id))
                {
                    failures.Add($"{alternative.Where}: the compliant example gets {id}");
                }
            }

            if (expected)
            {
                nonCompliant++;
            }
            else
            {
                compliant++;
            }
        }

        output.WriteLine($"docs/rules/{id}.md: {nonCompliant} non-compliant and {compliant} compliant blocks checked");
        Assert.True(nonCompliant > 0, $"docs/rules/{id}.md has no checked non-compliant C# block");
        Assert.True(compliant > 0, $"docs/rules/{id}.md has no checked compliant C# block");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Rule_pages_are_found_and_skips_are_rare_and_give_a_reason()
    {
        var ids = PageIds();
        var snippets = ids.SelectMany(Snippets).ToList();
        var skipped = snippets.Where(static s => s.Kind == "skip").ToList();
        foreach (var skip in skipped)
        {
            output.WriteLine($"{skip.Where}: skipped, {skip.Get("reason")}");
        }

        Assert.True(ids.Count >= 30, $"found only {ids.Count} rule pages in docs/rules");
        Assert.True(snippets.Count >= 2 * ids.Count, $"found only {snippets.Count} C# blocks in {ids.Count} rule pages: is the extraction broken?");
        Assert.All(snippets, static s => Assert.True(DocSnippets.Kinds.Contains(s.Kind), $"{s.Where}: unknown snippet kind '{s.Kind}'"));
        Assert.All(snippets, static s => Assert.All(s.Keys.Keys, k => Assert.True(DocSnippets.KeyNames.Contains(k), $"{s.Where}: unknown snippet key '{k}'")));
        Assert.All(skipped, static s => Assert.False(string.IsNullOrWhiteSpace(s.Get("reason")), $"{s.Where}: a skipped C# block says why"));
        Assert.True(skipped.Count <= MaxSkipped, $"{skipped.Count} rule page blocks are skipped, more than {MaxSkipped}: " + string.Join(", ", skipped.Select(static s => s.Where)));
    }

    /// <summary>Compiles one block with the generator and runs every analyzer: its compile problems and the ids reported.</summary>
    private static async Task<(List<string> Problems, HashSet<string> Reported)> Check(DocSnippets.Snippet snippet, int index)
    {
        var path = $"/rules/{Path.GetFileNameWithoutExtension(snippet.Page)}/S{index}.cs";
        var source = snippet.Source(index);
        var tree = CSharpSyntaxTree.ParseText(source, GeneratorDiagnostics.InterceptorParseOptions, path);
        var compilation = CSharpCompilation.Create(
            "RulePage",
            [tree],
            TestReferences.All,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        var (fromGenerator, generated) = GeneratorDiagnostics.Run(compilation);

        var problems = generated.GetDiagnostics()
            .Where(static d => d.Severity == DiagnosticSeverity.Error || d.Id is "CS8784" or "CS8785")
            .Select(static d => d.ToString())
            .ToList();
        var options = new AnalyzerOptions(AdviceFiles(snippet, source, path));
        var fromAnalyzers = await generated.WithAnalyzers(Analyzers, options).GetAnalyzerDiagnosticsAsync();
        problems.AddRange(fromAnalyzers.Where(static d => d.Id == "AD0001").Select(static d => d.ToString()));
        return (problems, fromAnalyzers.Concat(fromGenerator).Select(static d => d.Id).ToHashSet(StringComparer.Ordinal));
    }

    /// <summary>
    /// The precision-advice.json an <c>advice</c> key describes: one finding at the named call of the block, found
    /// where the block's text is in the compiled file (the trace records the file's own line and column).
    /// </summary>
    private static ImmutableArray<AdditionalText> AdviceFiles(DocSnippets.Snippet snippet, string source, string path)
    {
        var advice = Advice.Match(snippet.Get("advice"));
        if (!advice.Success)
        {
            return [];
        }

        var call = advice.Groups["call"].Value + "(";
        var line = snippet.Code.Split('\n').FirstOrDefault(l => l.Contains(call, StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"{snippet.Where}: the advice names '{call}', which the block does not call");
        var at = source.IndexOf(line, source.IndexOf("#line", StringComparison.Ordinal), StringComparison.Ordinal) + line.IndexOf(call, StringComparison.Ordinal);
        var name = at + call.LastIndexOf('.') + 1;
        var lineNumber = source[..name].Count(static c => c == '\n') + 1;
        var column = name - source.LastIndexOf('\n', name - 1);
        var json = $$"""{ "version": 1, "sites": [ { "file": "{{path}}", "line": {{lineNumber}}, "column": {{column}}, "op": "{{advice.Groups["op"].Value}}", "finding": "{{advice.Groups["finding"].Value}}", "amax": "7.1e4" } ] }""";
        return [new InMemoryAdditionalText("/rules/precision-advice.json", json)];
    }
}
