using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
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
/// Every code fix, one diagnostic at a time and as Fix All, applied to every positive test case of
/// every rule (each code sample in this project's tests that marks a diagnostic, and the mistakes of
/// the corpus): the fixed program must compile with no compiler error it did not have, and carry no
/// PrecisionPolicy diagnostic it did not have (the generator's too, for rules the generator reports).
/// Where a fix handles some diagnostics of a rule in a document, it handles all of them: dotnet format's
/// Fix All asks only the first one for its action.
/// </summary>
public sealed class CodeFixMetaTests(ITestOutputHelper output)
{
    private static readonly ImmutableArray<DiagnosticAnalyzer> Analyzers = ShippedComponents.Analyzers();

    private static readonly ImmutableArray<CodeFixProvider> CodeFixes = ShippedComponents.CodeFixes();

    // Fixes of the source generator's diagnostics (PP0103): no analyzer reports them, so the generator is run too.
    private static readonly ImmutableHashSet<string> GeneratorFixedIds = CodeFixes.SelectMany(static f => f.FixableDiagnosticIds)
        .Except(Analyzers.SelectMany(static a => a.SupportedDiagnostics).Select(static d => d.Id))
        .ToImmutableHashSet();

    [Fact]
    public async Task Every_fix_and_fix_all_keeps_the_positive_cases_compiling_with_no_new_diagnostics()
    {
        var cases = RepositorySources.PositiveCases();
        var failures = new ConcurrentQueue<string>();
        var applied = new ConcurrentDictionary<string, int>();

        await Parallel.ForEachAsync(cases, async (sample, cancellationToken) =>
        {
            using var workspace = new AdhocWorkspace();
            var document = CreateDocument(workspace, sample.Text);
            var before = await Diagnose(document, cancellationToken);
            foreach (var fix in CodeFixes)
            {
                var fixable = before.Analyzer.Where(d => fix.FixableDiagnosticIds.Contains(d.Id)).ToList();
                string? equivalenceKey = null;
                var unfixed = new List<Diagnostic>();
                foreach (var diagnostic in fixable)
                {
                    var actions = await Actions(fix, document, diagnostic);
                    if (actions.Count == 0)
                    {
                        unfixed.Add(diagnostic);
                    }

                    foreach (var action in actions)
                    {
                        equivalenceKey ??= action.EquivalenceKey;
                        var label = $"{sample.Path}: {fix.GetType().Name} on {diagnostic}";
                        await Check(label, before, await Apply(document, action, cancellationToken), failures, cancellationToken);
                        applied.AddOrUpdate(diagnostic.Id, 1, static (_, n) => n + 1);
                    }
                }

                if (equivalenceKey is null)
                {
                    continue;
                }

                // dotnet format asks the first diagnostic of a rule for the Fix All action: one without a fix
                // there makes it skip the whole rule ("didn't return a Fix All action"), so a rule's fix covers all its forms.
                foreach (var diagnostic in unfixed.Where(d => fixable.Any(f => f.Id == d.Id && !unfixed.Contains(f))))
                {
                    failures.Enqueue($"{sample.Path}: {fix.GetType().Name} has no fix for {diagnostic} while it fixes other {diagnostic.Id} diagnostics: Fix All would depend on which one is asked first");
                }

                var fixAll = await FixAll(fix, document, fixable, equivalenceKey, cancellationToken);
                if (fixAll is not null)
                {
                    await Check($"{sample.Path}: Fix All of {fix.GetType().Name}", before, await Apply(document, fixAll, cancellationToken), failures, cancellationToken);
                    applied.AddOrUpdate("Fix All", 1, static (_, n) => n + 1);
                }
            }
        });

        output.WriteLine($"{cases.Count} positive cases; fixes applied: " + string.Join(", ", applied.OrderBy(static p => p.Key).Select(static p => $"{p.Key} {p.Value}")));
        Assert.True(failures.IsEmpty, $"{failures.Count} fixes broke code, the first ones:\n" + string.Join("\n\n", failures.Take(8)));

        // Every rule that has a fix was exercised, and Fix All too.
        var fixedIds = CodeFixes.SelectMany(static f => f.FixableDiagnosticIds).Distinct().ToList();
        Assert.All(fixedIds, id => Assert.True(applied.ContainsKey(id), $"no positive case exercised the fix of {id}"));
        Assert.True(applied.ContainsKey("Fix All"));
    }

    /// <summary>
    /// A case whose first line is <c>// precision-advice.json: {...}</c> (PP0030's) gets that advice file as an
    /// AdditionalFile, and loses the raw string's indentation so that the advice's columns hold; its findings
    /// name the file Test0.cs, the case's file name here.
    /// </summary>
    private const string AdvicePrefix = "// precision-advice.json: ";

    internal static Document CreateDocument(AdhocWorkspace workspace, string text)
    {
        var project = workspace.CurrentSolution
            .AddProject("Case", "Case", LanguageNames.CSharp)
            .WithParseOptions(new CSharpParseOptions(LanguageVersion.Latest))
            .WithCompilationOptions(new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable))
            .WithMetadataReferences(TestReferences.All);
        if (text.TrimStart().StartsWith(AdvicePrefix, StringComparison.Ordinal))
        {
            // The advice names 1-based columns of the raw string as the compiler sees it: without its indentation.
            var indentation = text.Length - text.TrimStart(' ').Length;
            text = string.Join("\n", text.Split('\n').Select(line => line.Length >= indentation && line[..indentation].Trim().Length == 0 ? line[indentation..] : line.TrimStart(' ')));
            var advice = text.Split('\n')[0][AdvicePrefix.Length..];
            project = project.AddAdditionalDocument("precision-advice.json", SourceText.From(advice), filePath: "/case/precision-advice.json").Project;
        }

        return project.AddDocument("Test0.cs", SourceText.From(text), filePath: "/case/Test0.cs");
    }

    private sealed record Diagnosis(ImmutableArray<Diagnostic> Compiler, ImmutableArray<Diagnostic> Analyzer);

    private static async Task<Diagnosis> Diagnose(Document document, CancellationToken cancellationToken)
    {
        var compilation = (await document.Project.GetCompilationAsync(cancellationToken))!;
        var errors = compilation.GetDiagnostics(cancellationToken).Where(static d => d.Severity == DiagnosticSeverity.Error).ToImmutableArray();
        var analyzer = await compilation.WithAnalyzers(Analyzers, document.Project.AnalyzerOptions).GetAnalyzerDiagnosticsAsync(cancellationToken);
        var (generator, _) = GeneratorDiagnostics.Run(compilation, cancellationToken);
        return new Diagnosis(errors, analyzer.AddRange(generator.Where(static d => GeneratorFixedIds.Contains(d.Id))));
    }

    private static async Task Check(string label, Diagnosis before, Document? after, ConcurrentQueue<string> failures, CancellationToken cancellationToken)
    {
        if (after is null)
        {
            failures.Enqueue($"{label}: the action changed no document");
            return;
        }

        var diagnosis = await Diagnose(after, cancellationToken);
        var text = (await after.GetTextAsync(cancellationToken)).ToString();
        var newErrors = New(before.Compiler, diagnosis.Compiler);
        var newDiagnostics = New(before.Analyzer, diagnosis.Analyzer);
        if (newErrors.Count > 0 || newDiagnostics.Count > 0)
        {
            failures.Enqueue($"{label}\n  new: {string.Join("; ", newErrors.Concat(newDiagnostics))}\n{text}");
        }
    }

    /// <summary>The diagnostics of <paramref name="after"/> that <paramref name="before"/> does not have, compared by id and message (locations move).</summary>
    private static List<Diagnostic> New(ImmutableArray<Diagnostic> before, ImmutableArray<Diagnostic> after)
    {
        var remaining = before.GroupBy(Key).ToDictionary(static g => g.Key, static g => g.Count());
        var added = new List<Diagnostic>();
        foreach (var diagnostic in after)
        {
            if (remaining.TryGetValue(Key(diagnostic), out var count) && count > 0)
            {
                remaining[Key(diagnostic)] = count - 1;
            }
            else
            {
                added.Add(diagnostic);
            }
        }

        return added;

        static string Key(Diagnostic d) => d.Id + ": " + d.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<List<CodeAction>> Actions(CodeFixProvider fix, Document document, Diagnostic diagnostic)
    {
        var actions = new List<CodeAction>();
        await fix.RegisterCodeFixesAsync(new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None));
        return actions;
    }

    private static async Task<Document?> Apply(Document document, CodeAction action, CancellationToken cancellationToken)
    {
        foreach (var operation in await action.GetOperationsAsync(cancellationToken))
        {
            if (operation is ApplyChangesOperation changes)
            {
                return changes.ChangedSolution.GetDocument(document.Id);
            }
        }

        return null;
    }

    private static async Task<CodeAction?> FixAll(CodeFixProvider fix, Document document, List<Diagnostic> diagnostics, string equivalenceKey, CancellationToken cancellationToken)
    {
        var provider = fix.GetFixAllProvider();
        if (provider is null)
        {
            return null;
        }

        var context = new FixAllContext(
            document, fix, FixAllScope.Document, equivalenceKey, diagnostics.Select(static d => d.Id).Distinct(),
            new FixedDiagnostics(diagnostics), cancellationToken);
        return await provider.GetFixAsync(context);
    }

    /// <summary>Hands Fix All the diagnostics already computed for the one document.</summary>
    internal sealed class FixedDiagnostics(List<Diagnostic> diagnostics) : FixAllContext.DiagnosticProvider
    {
        public override Task<IEnumerable<Diagnostic>> GetAllDiagnosticsAsync(Project project, CancellationToken cancellationToken) =>
            Task.FromResult<IEnumerable<Diagnostic>>(diagnostics);

        public override Task<IEnumerable<Diagnostic>> GetDocumentDiagnosticsAsync(Document document, CancellationToken cancellationToken) =>
            Task.FromResult<IEnumerable<Diagnostic>>(diagnostics);

        public override Task<IEnumerable<Diagnostic>> GetProjectDiagnosticsAsync(Project project, CancellationToken cancellationToken) =>
            Task.FromResult<IEnumerable<Diagnostic>>([]);
    }
}
