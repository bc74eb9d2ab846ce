using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using PrecisionPolicy.Analyzers.Helpers;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0010: an [Autocast] module class (or one of its containing types) declared without <c>partial</c>.
/// A non-module [Autocast] class is only a region for interceptors and needs no generated members.
/// Silent when the project turns the generator off (<c>EnablePrecisionPolicyGenerator=false</c>):
/// nothing is generated into the class then.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class AutocastClassNotPartialAnalyzer() : TorchAnalyzer(Descriptors.AutocastClassNotPartial)
{
    /// <summary>The MSBuild property that turns the source generator off, as the compiler passes it to analyzers.</summary>
    private const string GeneratorSwitch = "build_property.EnablePrecisionPolicyGenerator";

    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        if (symbols.Autocast is not null && !GeneratorSwitchedOff(context.Options))
        {
            context.RegisterSymbolAction(c => Analyze(c, symbols), SymbolKind.NamedType);
        }
    }

    private static void Analyze(SymbolAnalysisContext context, TorchSymbols symbols)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        if (!TorchSymbols.HasAttribute(type, symbols.Autocast) || !symbols.IsModule(type) ||
            FirstNotPartial(type, context) is not { } notPartial)
        {
            return;
        }

        // The diagnostic stays on the [Autocast] class (its fix makes the class and every
        // containing type partial) but names the type that lacks the keyword.
        foreach (var location in type.Locations)
        {
            if (location.IsInSource)
            {
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.AutocastClassNotPartial, location, notPartial.Name, type.Name));
            }
        }
    }

    /// <summary>
    /// The package's build targets remove the generator when the property is false and make the property
    /// visible to analyzers (CompilerVisibleProperty), so this reads the same switch the build obeys.
    /// </summary>
    private static bool GeneratorSwitchedOff(AnalyzerOptions options) =>
        options.AnalyzerConfigOptionsProvider.GlobalOptions.TryGetValue(GeneratorSwitch, out var value) &&
        string.Equals(value.Trim(), "false", System.StringComparison.OrdinalIgnoreCase);

    /// <summary>The annotated type, or the innermost containing type, that has a declaration without <c>partial</c>.</summary>
    private static INamedTypeSymbol? FirstNotPartial(INamedTypeSymbol type, SymbolAnalysisContext context)
    {
        for (var t = type; t is not null; t = t.ContainingType)
        {
            foreach (var reference in t.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax(context.CancellationToken) is TypeDeclarationSyntax declaration &&
                    !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
                {
                    return t;
                }
            }
        }

        return null;
    }
}
