using System;
using System.Collections.Immutable;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Diagnostics.Telemetry;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests;

/// <summary>Analyzers run concurrently and register nothing beyond one type lookup in projects without TorchSharp.</summary>
public sealed class AnalyzerCostTests
{
    private const string Source = """
        public static class Program
        {
            public static int Main() => new System.Random(1).Next();
        }
        """;

    public static TheoryData<string> AnalyzerNames()
    {
        var names = new TheoryData<string>();
        foreach (var type in AnalyzerTypes())
        {
            names.Add(type.Name);
        }

        return names;
    }

    [Theory]
    [MemberData(nameof(AnalyzerNames))]
    public async Task Analyzer_is_idle_without_torchsharp(string name)
    {
        var references = Basic.Reference.Assemblies.Net100.References.All;

        var telemetry = await Telemetry(name, references);

        Assert.True(telemetry.Concurrent);
        Assert.Equal(1, telemetry.CompilationStartActionsCount);
        Assert.Equal(0, telemetry.OperationActionsCount + telemetry.OperationBlockActionsCount + telemetry.OperationBlockStartActionsCount +
            telemetry.SymbolActionsCount + telemetry.SymbolStartActionsCount + telemetry.SyntaxNodeActionsCount +
            telemetry.SemanticModelActionsCount + telemetry.CompilationEndActionsCount);
    }

    [Theory]
    [MemberData(nameof(AnalyzerNames))]
    public async Task Analyzer_registers_its_work_with_torchsharp(string name)
    {
        // PP0030 works only from a numerics-trace advice file: every analyzer gets one with a finding.
        var telemetry = await Telemetry(name, TestReferences.All, new AdviceFile());

        Assert.True(telemetry.OperationActionsCount + telemetry.OperationBlockActionsCount + telemetry.SymbolActionsCount +
            telemetry.SymbolStartActionsCount > 0);
    }

    private static async Task<AnalyzerTelemetryInfo> Telemetry(string name, System.Collections.Generic.IEnumerable<MetadataReference> references, params AdditionalText[] files)
    {
        var analyzer = (DiagnosticAnalyzer)Activator.CreateInstance(AnalyzerTypes().Single(t => t.Name == name))!;
        var compilation = CSharpCompilation.Create(
            "NoTorch",
            [CSharpSyntaxTree.ParseText(Source)],
            references,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication));
        var withAnalyzers = compilation.WithAnalyzers(
            [analyzer],
            new CompilationWithAnalyzersOptions(new AnalyzerOptions([.. files]), null, concurrentAnalysis: true, logAnalyzerExecutionTime: false));

        Assert.Empty(await withAnalyzers.GetAnalyzerDiagnosticsAsync());
        return await withAnalyzers.GetAnalyzerTelemetryInfoAsync(analyzer, default);
    }

    private static ImmutableArray<Type> AnalyzerTypes() =>
        typeof(Helpers.TorchAnalyzer).Assembly.GetTypes()
            .Where(static t => !t.IsAbstract && typeof(DiagnosticAnalyzer).IsAssignableFrom(t))
            .OrderBy(static t => t.Name, StringComparer.Ordinal)
            .ToImmutableArray();

    private sealed class AdviceFile : AdditionalText
    {
        public override string Path => "/case/precision-advice.json";

        public override Microsoft.CodeAnalysis.Text.SourceText GetText(System.Threading.CancellationToken cancellationToken = default) =>
            Microsoft.CodeAnalysis.Text.SourceText.From("""{ "version": 1, "sites": [ { "file": "Program.cs", "line": 3, "column": 44, "op": "Random.Next", "finding": "overflow" } ] }""");
    }
}
