using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace PrecisionPolicy.Analyzers.Tests;

/// <summary>
/// Every analyzer, code fix and source generator runs over thousands of damaged copies of the
/// repository's sources and must never throw.
/// </summary>
public sealed class RobustnessTests(ITestOutputHelper output)
{
    private const int Seed = 20261128;
    private const int VariantCount = 5_000;

    /// <summary>The source generators that run over every variant before the analyzers.</summary>
    private static readonly IIncrementalGenerator[] Generators = [new PrecisionPolicy.Generators.AutocastGenerator()];

    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly ImmutableArray<DiagnosticAnalyzer> Analyzers = ShippedComponents.Analyzers();

    private static readonly ImmutableArray<CodeFixProvider> CodeFixes = ShippedComponents.CodeFixes();

    [Fact]
    public async Task Analyzers_fixes_and_generators_never_throw_on_damaged_sources()
    {
        var sources = RepositorySources.Load();
        var variants = SourceMutator.Variants(sources, Seed, VariantCount).ToList();
        var failures = new ConcurrentQueue<string>();
        var reportedIds = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        var stopwatch = Stopwatch.StartNew();
        int reported = 0, fixesApplied = 0;

        var compilationOptions = new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable);
        using var workspace = new AdhocWorkspace();
        var project = workspace.CurrentSolution
            .AddProject("Variant", "Variant", LanguageNames.CSharp)
            .WithParseOptions(ParseOptions)
            .WithCompilationOptions(compilationOptions)
            .WithMetadataReferences(TestReferences.All);

        // Variants are independent: spread them over the cores to keep the test well under two minutes.
        await Parallel.ForEachAsync(Enumerable.Range(0, variants.Count), async (index, cancellationToken) =>
        {
            // A bare compilation is cheaper than a workspace snapshot; the code fixes get a
            // document with the same text only when there is something to fix.
            var tree = CSharpSyntaxTree.ParseText(variants[index], ParseOptions, cancellationToken: cancellationToken);
            var compilation = CSharpCompilation.Create("Variant", [tree], TestReferences.All, compilationOptions);

            var driver = CSharpGeneratorDriver.Create(Generators.Select(GeneratorExtensions.AsSourceGenerator), parseOptions: ParseOptions)
                .RunGeneratorsAndUpdateCompilation(compilation, out var generated, out _, cancellationToken);
            foreach (var result in driver.GetRunResult().Results.Where(static r => r.Exception is not null))
            {
                failures.Enqueue($"{result.Generator.GetGeneratorType().Name} threw on variant {index}: {result.Exception}");
            }

            var options = new CompilationWithAnalyzersOptions(
                new AnalyzerOptions([AdviceFor(tree, index)]),
                (exception, analyzer, _) => failures.Enqueue($"{analyzer.GetType().Name} threw on variant {index}: {exception}"),
                concurrentAnalysis: false,
                logAnalyzerExecutionTime: false);
            var diagnostics = await generated.WithAnalyzers(Analyzers, options).GetAnalyzerDiagnosticsAsync(cancellationToken);
            foreach (var crash in diagnostics.Where(static d => d.Id == "AD0001"))
            {
                failures.Enqueue($"variant {index}: {crash}");
            }

            Document? document = null;
            foreach (var diagnostic in diagnostics.Where(d => d.Location.SourceTree == tree))
            {
                document ??= project.AddDocument("Variant.cs", SourceText.From(variants[index]));
                Interlocked.Increment(ref reported);
                reportedIds.TryAdd(diagnostic.Id, true);
                Interlocked.Add(ref fixesApplied, await RunCodeFixes(document, diagnostic, failures, index));
            }
        });

        output.WriteLine($"{variants.Count} variants of {sources.Count} sources, {reported} diagnostics, {fixesApplied} fixes applied, {stopwatch.Elapsed}");
        Assert.True(failures.IsEmpty, $"{failures.Count} failures, the first ones:\n" + string.Join("\n\n", failures.Take(10)));
        Assert.True(variants.Count >= VariantCount);
        Assert.True(reported > 0, "no variant produced a diagnostic: the analyzers were not exercised");

        // Every rule got past its early exits on damaged code, so each one's full analysis was exercised.
        var silent = Analyzers.SelectMany(static a => a.SupportedDiagnostics).Select(static d => d.Id)
            .Where(id => !reportedIds.ContainsKey(id)).OrderBy(static id => id, StringComparer.Ordinal).ToList();
        Assert.True(silent.Count == 0, "rules never reported on any variant: " + string.Join(", ", silent));
        Assert.True(fixesApplied > 0, "no code fix was offered: the fixes were not exercised");
    }

    /// <summary>
    /// A numerics-trace advice file for the variant, so PP0030 (which works only from one) is exercised too:
    /// a finding at the names of the variant's first member calls, and for one variant in ten the file cut
    /// short, as a damaged advice file would be.
    /// </summary>
    private static AdditionalText AdviceFor(SyntaxTree tree, int variant)
    {
        var sites = tree.GetRoot().DescendantNodes().OfType<InvocationExpressionSyntax>()
            .Select(static i => i.Expression).OfType<MemberAccessExpressionSyntax>().Take(3)
            .Select(static m => (Name: m.Name.Identifier.ValueText, Position: m.Name.GetLocation().GetLineSpan().StartLinePosition))
            .Select(static s => $$"""{ "file": "", "line": {{s.Position.Line + 1}}, "column": {{s.Position.Character + 1}}, "op": "torch.{{s.Name}}", "finding": "overflow", "amax": "7.1e4" }""");
        var json = """{ "version": 1, "sites": [ """ + string.Join(", ", sites) + " ] }";
        return new InMemoryAdditionalText("/variant/precision-advice.json", variant % 10 == 0 ? json[..(json.Length / 2)] : json);
    }

    private static async Task<int> RunCodeFixes(Document document, Diagnostic diagnostic, ConcurrentQueue<string> failures, int variant)
    {
        var applied = 0;
        foreach (var fix in CodeFixes.Where(f => f.FixableDiagnosticIds.Contains(diagnostic.Id)))
        {
            var actions = new List<CodeAction>();
            try
            {
                await fix.RegisterCodeFixesAsync(new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None));
                foreach (var action in actions)
                {
                    await action.GetOperationsAsync(CancellationToken.None);
                    applied++;
                }
            }
            catch (Exception exception)
            {
                failures.Enqueue($"{fix.GetType().Name} threw on variant {variant} ({diagnostic}): {exception}");
            }
        }

        return applied;
    }
}
