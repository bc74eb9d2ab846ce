using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace PrecisionPolicy.Analyzers.Helpers;

/// <summary>
/// Base of every rule: one rule (<paramref name="rule"/>) per analyzer, concurrent, skips generated code, and does
/// nothing at all unless the compilation references TorchSharp, so projects without it pay one type lookup.
/// </summary>
/// <param name="rule">The rule the analyzer reports.</param>
public abstract class TorchAnalyzer(DiagnosticDescriptor rule) : DiagnosticAnalyzer
{
    public sealed override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(rule);

    /// <summary>The rule the analyzer reports.</summary>
    private protected DiagnosticDescriptor Rule => SupportedDiagnostics[0];

    public sealed override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            var symbols = TorchSymbols.TryCreate(start.Compilation);
            if (symbols is not null)
            {
                OnTorchCompilationStart(start, symbols);
            }
        });
    }

    private protected abstract void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols);
}
