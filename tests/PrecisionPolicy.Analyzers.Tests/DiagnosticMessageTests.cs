using System.Collections.Concurrent;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace PrecisionPolicy.Analyzers.Tests;

/// <summary>
/// The messages users read, as reported: every analyzer and generator diagnostic that a positive test case
/// (each code sample in this project's tests that marks a diagnostic, and the corpus of mistakes) gets is one
/// sentence of at most <see cref="RuleConventionsTests.MaxMessageLength"/> characters with its arguments
/// filled in. The why and the how belong on the rule's page (the help link).
/// </summary>
public sealed partial class DiagnosticMessageTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Every_reported_message_is_one_short_sentence()
    {
        var analyzers = ShippedComponents.Analyzers();
        var tooLong = new ConcurrentDictionary<string, string>();
        var reported = new ConcurrentDictionary<string, int>();

        await Parallel.ForEachAsync(RepositorySources.PositiveCases(), async (sample, cancellationToken) =>
        {
            using var workspace = new AdhocWorkspace();
            var document = CodeFixMetaTests.CreateDocument(workspace, sample.Text);
            var compilation = (await document.Project.GetCompilationAsync(cancellationToken))!;
            var fromAnalyzers = await compilation.WithAnalyzers(analyzers, document.Project.AnalyzerOptions).GetAnalyzerDiagnosticsAsync(cancellationToken);
            var (fromGenerator, _) = GeneratorDiagnostics.Run(compilation, cancellationToken);
            foreach (var diagnostic in fromAnalyzers.Concat(fromGenerator).Where(static d => d.Id.StartsWith("PP", System.StringComparison.Ordinal)))
            {
                var message = diagnostic.GetMessage(CultureInfo.InvariantCulture);
                reported.AddOrUpdate(diagnostic.Id, 1, static (_, n) => n + 1);
                if (message.Length > RuleConventionsTests.MaxMessageLength || SentenceBreak().IsMatch(message))
                    tooLong.TryAdd(message, $"{diagnostic.Id} ({message.Length}) in {sample.Path}: {message}");
            }
        });

        output.WriteLine("messages checked: " + string.Join(", ", reported.OrderBy(static p => p.Key).Select(static p => $"{p.Key} {p.Value}")));
        Assert.True(reported.Count >= 20, $"only {reported.Count} rules reported anything: are the positive cases still found?");
        Assert.True(tooLong.IsEmpty, "messages longer than one short sentence:\n" + string.Join("\n", tooLong.Values.Order()));
    }

    [GeneratedRegex(@"[.!?](\s|$)")]
    private static partial Regex SentenceBreak();
}
