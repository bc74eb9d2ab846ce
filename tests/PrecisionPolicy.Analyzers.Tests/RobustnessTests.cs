using System;
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
    private static readonly IIncrementalGenerator[] Generators = [];

    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly ImmutableArray<DiagnosticAnalyzer> Analyzers = typeof(Helpers.TorchAnalyzer).Assembly.GetTypes()
        .Where(static t => !t.IsAbstract && typeof(DiagnosticAnalyzer).IsAssignableFrom(t))
        .OrderBy(static t => t.FullName, StringComparer.Ordinal)
        .Select(static t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!)
        .ToImmutableArray();

    private static readonly ImmutableArray<CodeFixProvider> CodeFixes = typeof(CodeFixes.UseFloat32CodeFix).Assembly.GetTypes()
        .Where(static t => !t.IsAbstract && typeof(CodeFixProvider).IsAssignableFrom(t))
        .OrderBy(static t => t.FullName, StringComparer.Ordinal)
        .Select(static t => (CodeFixProvider)Activator.CreateInstance(t)!)
        .ToImmutableArray();

    [Fact]
    public async Task AnalyzersFixesAndGeneratorsNeverThrowOnDamagedSources()
    {
        var sources = RepositorySources.Load();
        var failures = new List<string>();
        var stopwatch = Stopwatch.StartNew();
        int variants = 0, reported = 0, fixesOffered = 0;

        using var workspace = new AdhocWorkspace();
        var project = workspace.CurrentSolution
            .AddProject("Variant", "Variant", LanguageNames.CSharp)
            .WithParseOptions(ParseOptions)
            .WithCompilationOptions(new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable))
            .WithMetadataReferences(TestReferences.All);

        foreach (var text in SourceMutator.Variants(sources, Seed, VariantCount))
        {
            variants++;
            var document = project.AddDocument("Variant.cs", SourceText.From(text));
            var compilation = (await document.Project.GetCompilationAsync())!;

            var driver = CSharpGeneratorDriver.Create(Generators.Select(GeneratorExtensions.AsSourceGenerator), parseOptions: ParseOptions)
                .RunGeneratorsAndUpdateCompilation(compilation, out var generated, out _);
            failures.AddRange(driver.GetRunResult().Results
                .Where(static r => r.Exception is not null)
                .Select(r => $"{r.Generator.GetGeneratorType().Name} threw on variant {variants}: {r.Exception}"));

            var options = new CompilationWithAnalyzersOptions(
                new AnalyzerOptions([]),
                (exception, analyzer, _) => failures.Add($"{analyzer.GetType().Name} threw on variant {variants}: {exception}"),
                concurrentAnalysis: false,
                logAnalyzerExecutionTime: false);
            var diagnostics = await generated.WithAnalyzers(Analyzers, options).GetAnalyzerDiagnosticsAsync();
            failures.AddRange(diagnostics.Where(static d => d.Id == "AD0001").Select(d => $"variant {variants}: {d}"));

            var tree = await document.GetSyntaxTreeAsync();
            foreach (var diagnostic in diagnostics.Where(d => d.Location.SourceTree == tree))
            {
                reported++;
                fixesOffered += await RunCodeFixes(document, diagnostic, failures, variants);
            }
        }

        output.WriteLine($"{variants} variants of {sources.Count} sources, {reported} diagnostics, {fixesOffered} fixes applied, {stopwatch.Elapsed}");
        Assert.Empty(failures);
        Assert.True(variants >= VariantCount);
        Assert.True(reported > 0, "no variant produced a diagnostic: the analyzers were not exercised");
        Assert.True(fixesOffered > 0, "no code fix was offered: the fixes were not exercised");
    }

    private static async Task<int> RunCodeFixes(Document document, Diagnostic diagnostic, List<string> failures, int variant)
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
                failures.Add($"{fix.GetType().Name} threw on variant {variant} ({diagnostic}): {exception}");
            }
        }

        return applied;
    }
}
