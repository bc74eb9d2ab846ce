using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using PrecisionPolicy.Analyzers.Helpers;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0011: [Autocast] on a class that does not derive from torch.nn.Module (of any arity). A static class is not
/// reported: it cannot derive from anything, so its [Autocast] can only mean a cast region, never a module.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class AutocastClassNotModuleAnalyzer() : TorchAnalyzer(Descriptors.AutocastClassNotModule)
{
    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        if (symbols.Autocast is not null && symbols.Module is not null)
        {
            context.RegisterSymbolAction(c => Analyze(c, symbols), SymbolKind.NamedType);
        }
    }

    private static void Analyze(SymbolAnalysisContext context, TorchSymbols symbols)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        if (TorchSymbols.FindAttribute(type, symbols.Autocast) is { ApplicationSyntaxReference: { } attribute } &&
            !type.IsStatic &&
            type.BaseType is { TypeKind: not TypeKind.Error } &&
            !symbols.IsModule(type))
        {
            context.ReportDiagnostic(Diagnostic.Create(
                Descriptors.AutocastClassNotModule,
                attribute.GetSyntax(context.CancellationToken).GetLocation(),
                type.Name));
        }
    }
}
