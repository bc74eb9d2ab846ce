using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using PrecisionPolicy.Analyzers.Helpers;
using PrecisionPolicy.Catalog;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0013: <c>[Fp8Recipe(ForwardFormat = Fp8Format.E5M2, BackwardFormat = Fp8Format.E4M3)]</c>,
/// the reverse of the hybrid recipe (TransformerEngine's HYBRID: E4M3 forward, E5M2 backward).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class Fp8FormatsSwappedAnalyzer() : TorchAnalyzer(Descriptors.Fp8FormatsSwapped)
{
    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        if (symbols.Fp8Recipe is not null)
        {
            context.RegisterSymbolAction(c => Analyze(c, symbols), SymbolKind.NamedType);
        }
    }

    private static void Analyze(SymbolAnalysisContext context, TorchSymbols symbols)
    {
        if (TorchSymbols.FindAttribute(context.Symbol, symbols.Fp8Recipe) is not { ApplicationSyntaxReference: { } syntax } recipe)
        {
            return;
        }

        int? forward = null, backward = null;
        foreach (var argument in recipe.NamedArguments)
        {
            if (argument.Value.Value is int value)
            {
                switch (argument.Key)
                {
                    case "ForwardFormat":
                        forward = value;
                        break;
                    case "BackwardFormat":
                        backward = value;
                        break;
                }
            }
        }

        if (forward == (int)Fp8Format.E5M2 && backward == (int)Fp8Format.E4M3)
        {
            context.ReportDiagnostic(Diagnostic.Create(
                Descriptors.Fp8FormatsSwapped, syntax.GetSyntax(context.CancellationToken).GetLocation(), context.Symbol.Name));
        }
    }
}
