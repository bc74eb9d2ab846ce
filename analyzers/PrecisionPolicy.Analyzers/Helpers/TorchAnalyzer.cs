using Microsoft.CodeAnalysis.Diagnostics;

namespace PrecisionPolicy.Analyzers.Helpers;

/// <summary>
/// Base of every rule: concurrent, skips generated code, and does nothing at all unless the
/// compilation references TorchSharp, so projects without it pay one type lookup.
/// </summary>
public abstract class TorchAnalyzer : DiagnosticAnalyzer
{
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
