using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace PrecisionPolicy.Analyzers.Tests.Infrastructure;

/// <summary>The source generator's diagnostics (PP01xx) and the compilation with its output, for fixes of generator rules.</summary>
internal static class GeneratorDiagnostics
{
    /// <summary>
    /// Parse options under which the generator's interceptors compile: the namespace opt-in that the package's
    /// build/PrecisionPolicy.targets sets (Roslyn 4.11 reads the preview name, newer compilers the final one).
    /// </summary>
    public static readonly CSharpParseOptions InterceptorParseOptions = new CSharpParseOptions(LanguageVersion.Preview)
        .WithFeatures([
            new KeyValuePair<string, string>("InterceptorsPreviewNamespaces", "PrecisionPolicy.Generated"),
            new KeyValuePair<string, string>("InterceptorsNamespaces", "PrecisionPolicy.Generated"),
        ]);

    public static (ImmutableArray<Diagnostic> Diagnostics, Compilation Output) Run(Compilation compilation, CancellationToken cancellationToken = default)
    {
        var parseOptions = compilation.SyntaxTrees.FirstOrDefault()?.Options as CSharpParseOptions ?? new CSharpParseOptions(LanguageVersion.Latest);
        CSharpGeneratorDriver.Create([new PrecisionPolicy.Generators.AutocastGenerator().AsSourceGenerator()], parseOptions: parseOptions)
            .RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics, cancellationToken);
        return (diagnostics, output);
    }
}
