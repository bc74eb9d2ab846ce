using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using PrecisionPolicy.Generators;

namespace PrecisionPolicy.Generators.Tests;

/// <summary>Compiles test sources against net10.0 + TorchSharp + PrecisionPolicy and runs the generator.</summary>
internal static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = CSharpParseOptions.Default
        .WithLanguageVersion(LanguageVersion.Preview)
        .WithFeatures(new[]
        {
            // Roslyn 4.11 reads the preview name; newer compilers the final one (build/PrecisionPolicy.targets sets it).
            new KeyValuePair<string, string>("InterceptorsPreviewNamespaces", "PrecisionPolicy.Generated"),
            new KeyValuePair<string, string>("InterceptorsNamespaces", "PrecisionPolicy.Generated"),
        });

    private static readonly ImmutableArray<MetadataReference> References = Net100.References.All
        .Cast<MetadataReference>()
        .Concat(new[]
        {
            MetadataReference.CreateFromFile(typeof(TorchSharp.torch).Assembly.Location),
            MetadataReference.CreateFromFile(typeof(PrecisionPolicy.AutocastAttribute).Assembly.Location),
        })
        .ToImmutableArray();

    public static CSharpCompilation Compilation(params (string Path, string Text)[] sources) =>
        CSharpCompilation.Create(
            "GeneratorTests",
            sources.Select(s => CSharpSyntaxTree.ParseText(s.Text, ParseOptions, s.Path)),
            References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable)
                // The SDK suppresses these assembly-unification notes too (TorchSharp targets net8.0).
                .WithSpecificDiagnosticOptions(new Dictionary<string, ReportDiagnostic> { ["CS1701"] = ReportDiagnostic.Suppress, ["CS1702"] = ReportDiagnostic.Suppress }));

    public static GeneratorDriver Driver() =>
        CSharpGeneratorDriver.Create(
            new[] { new AutocastGenerator().AsSourceGenerator() },
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    public sealed record Result(GeneratorDriverRunResult Run, Compilation Output, ImmutableArray<Diagnostic> GeneratorDiagnostics, GeneratorDriver Driver)
    {
        /// <summary>Compiler diagnostics (warnings and errors) of the compilation with the generated code.</summary>
        public ImmutableArray<Diagnostic> CompileDiagnostics => Output.GetDiagnostics()
            .Where(d => d.Severity >= DiagnosticSeverity.Warning)
            .ToImmutableArray();

        /// <summary>Generated files and diagnostics as one text, for snapshots.</summary>
        public string Render()
        {
            var s = new StringBuilder();
            var diagnostics = GeneratorDiagnostics.OrderBy(d => d.Location.SourceSpan.Start).ToList();
            s.Append("// Generator diagnostics: ").Append(diagnostics.Count).Append('\n');
            foreach (var d in diagnostics)
            {
                var span = d.Location.GetLineSpan();
                s.Append("// ").Append(d.Id).Append(' ').Append(d.Severity).Append(" (")
                 .Append(span.StartLinePosition.Line + 1).Append(',').Append(span.StartLinePosition.Character + 1).Append("): ")
                 .Append(d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
            }
            foreach (var source in Run.Results.SelectMany(r => r.GeneratedSources).OrderBy(g => g.HintName, StringComparer.Ordinal))
            {
                s.Append("\n// ===== ").Append(source.HintName).Append(" =====\n");
                s.Append(source.SourceText.ToString());
            }
            return s.ToString();
        }
    }

    public static Result Run(params (string Path, string Text)[] sources) => Run(Compilation(sources));

    public static Result Run(Compilation compilation, GeneratorDriver? driver = null)
    {
        driver = (driver ?? Driver()).RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        return new Result(driver.GetRunResult(), output, diagnostics, driver);
    }
}
