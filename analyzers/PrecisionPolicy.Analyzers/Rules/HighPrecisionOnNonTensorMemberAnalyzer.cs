using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using PrecisionPolicy.Analyzers.Helpers;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0012: [HighPrecision] on a field or property whose type can hold no tensor: not a Module,
/// Tensor or Parameter, not an array or generic collection of them. <c>object</c>, interfaces,
/// type parameters and unresolved types are given the benefit of the doubt.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class HighPrecisionOnNonTensorMemberAnalyzer() : TorchAnalyzer(Descriptors.HighPrecisionOnNonTensorMember)
{
    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        if (symbols.HighPrecision is not null)
        {
            context.RegisterSymbolAction(c => Analyze(c, symbols), SymbolKind.Field, SymbolKind.Property);
        }
    }

    private static void Analyze(SymbolAnalysisContext context, TorchSymbols symbols)
    {
        var member = context.Symbol;
        var type = Operations.TypeOf(member);
        if (type is not null &&
            TorchSymbols.FindAttribute(member, symbols.HighPrecision) is { ApplicationSyntaxReference: { } attribute } &&
            IsFirstDeclared(member, context.CancellationToken) &&
            !MayHoldTensors(type, symbols, new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default)))
        {
            context.ReportDiagnostic(Diagnostic.Create(
                Descriptors.HighPrecisionOnNonTensorMember,
                attribute.GetSyntax(context.CancellationToken).GetLocation(),
                member.Name,
                type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)));
        }
    }

    /// <summary><c>[HighPrecision] int a, b;</c> is one attribute: report it once, for <c>a</c>.</summary>
    private static bool IsFirstDeclared(ISymbol member, System.Threading.CancellationToken cancellationToken) =>
        member.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) is not VariableDeclaratorSyntax
        {
            Parent: VariableDeclarationSyntax declaration,
        } declarator || declaration.Variables[0] == declarator;

    private static bool MayHoldTensors(ITypeSymbol type, TorchSymbols symbols, HashSet<ITypeSymbol> visited)
    {
        // int implements IComparable<int>: a type seen before adds nothing.
        if (!visited.Add(type))
        {
            return false;
        }

        switch (type)
        {
            case IErrorTypeSymbol or ITypeParameterSymbol or IDynamicTypeSymbol:
            case { SpecialType: SpecialType.System_Object }:
            case { TypeKind: TypeKind.Interface } when type is not INamedTypeSymbol { IsGenericType: true }:
                return true;
            case IArrayTypeSymbol array:
                return MayHoldTensors(array.ElementType, symbols, visited);
        }

        if (symbols.IsTensor(type) || symbols.IsModule(type))
        {
            return true;
        }

        return type is INamedTypeSymbol named &&
            (named.TypeArguments.Any(a => MayHoldTensors(a, symbols, visited)) ||
             named.AllInterfaces.Any(i => i.IsGenericType && i.TypeArguments.Any(a => MayHoldTensors(a, symbols, visited))));
    }
}
