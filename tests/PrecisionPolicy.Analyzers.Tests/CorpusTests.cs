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
using Xunit;
using Xunit.Abstractions;

namespace PrecisionPolicy.Analyzers.Tests;

/// <summary>
/// Mixed-precision mistakes from public PyTorch/Apex/Lightning/DeepSpeed threads, rewritten as
/// TorchSharp C# (Corpus/Mistakes, each naming its thread and the rule expected to catch it), and
/// look-alike correct code (Corpus/Correct). Every file compiles on its own; at least 95% of the
/// mistakes get their expected diagnostic, and no correct file gets any. Corpus/Mechanisms is a second
/// corpus of the same shape, of mistakes no rule page named when it was gathered (value ranges, 16-bit
/// dtypes that arrive from elsewhere, long-lived state, scaled gradients).
/// </summary>
public sealed class CorpusTests(ITestOutputHelper output)
{
    private static readonly Regex Source = new(@"^// Source: https://\S+", RegexOptions.Multiline);
    private static readonly Regex Expected = new(@"^// Expected: (?<id>PP\d{4})", RegexOptions.Multiline);

    private static readonly ImmutableArray<DiagnosticAnalyzer> Analyzers = ShippedComponents.Analyzers();

    /// <summary>The corpora: the first one, and the one gathered by mechanism.</summary>
    public static TheoryData<string> Corpora => new() { "", "Mechanisms" };

    private static string Folder(string name) =>
        Path.Combine(RepositorySources.FindRoot(), "tests", "PrecisionPolicy.Analyzers.Tests", "Corpus", name);

    private static IReadOnlyList<(string Name, string Text)> Files(string folder) =>
        Directory.EnumerateFiles(Folder(folder), "*.cs").OrderBy(static p => p, StringComparer.Ordinal)
            .Select(static p => (Path.GetFileName(p), File.ReadAllText(p))).ToList();

    [Theory]
    [MemberData(nameof(Corpora))]
    public void Every_corpus_file_compiles(string corpus)
    {
        var errors = Files(Path.Combine(corpus, "Mistakes")).Concat(Files(Path.Combine(corpus, "Correct")))
            .SelectMany(static f => Compile(f.Name, f.Text).GetDiagnostics().Where(static d => d.Severity == DiagnosticSeverity.Error)
                .Select(d => $"{f.Name}: {d}"))
            .ToList();

        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    [Theory]
    [MemberData(nameof(Corpora))]
    public async Task At_least_ninety_five_percent_of_the_mistakes_are_flagged_with_the_expected_rule(string corpus)
    {
        var mistakes = Files(Path.Combine(corpus, "Mistakes"));
        var missed = new List<string>();
        foreach (var (name, text) in mistakes)
        {
            var expected = Expected.Match(text);
            Assert.True(Source.IsMatch(text) && expected.Success, $"{name} must name its source thread and expected rule");
            var diagnostics = await Analyze(name, text);
            if (!diagnostics.Any(d => d.Id == expected.Groups["id"].Value))
            {
                missed.Add($"{name} (expected {expected.Groups["id"].Value}, got {string.Join(", ", diagnostics.Select(static d => d.Id))})");
            }
        }

        var recall = (mistakes.Count - missed.Count) / (double)mistakes.Count;
        output.WriteLine($"recall {mistakes.Count - missed.Count}/{mistakes.Count} = {recall:P1}; missed: {string.Join("; ", missed)}");
        Assert.True(mistakes.Count >= 30, $"the corpus has {mistakes.Count} mistakes, fewer than 30");
        Assert.True(recall >= 0.95, $"recall {recall:P1} is below 95%; missed: {string.Join("; ", missed)}");
    }

    [Theory]
    [MemberData(nameof(Corpora))]
    public async Task No_correct_file_is_flagged(string corpus)
    {
        var correct = Files(Path.Combine(corpus, "Correct"));
        var flagged = new List<string>();
        foreach (var (name, text) in correct)
        {
            Assert.True(Source.IsMatch(text), $"{name} must name its source thread");
            foreach (var diagnostic in await Analyze(name, text))
            {
                flagged.Add($"{name}: {diagnostic}");
            }
        }

        output.WriteLine($"{correct.Count} correct files, {flagged.Count} diagnostics");
        Assert.True(correct.Count >= 15, $"the corpus has {correct.Count} correct files, fewer than 15");
        Assert.True(flagged.Count == 0, "false positives:\n" + string.Join("\n", flagged));
    }

    /// <summary>The PrecisionPolicy diagnostics of one corpus file.</summary>
    private static Task<ImmutableArray<Diagnostic>> Analyze(string name, string text) =>
        Compile(name, text).WithAnalyzers(Analyzers).GetAnalyzerDiagnosticsAsync();

    private static CSharpCompilation Compile(string name, string text) =>
        CSharpCompilation.Create(
            Path.GetFileNameWithoutExtension(name),
            [CSharpSyntaxTree.ParseText(text, new CSharpParseOptions(LanguageVersion.Latest), path: name)],
            TestReferences.All,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
}
