using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace PrecisionPolicy.Generators;

/// <summary>
/// A class or method declaration that carries [Autocast], with its symbol and the attribute's data:
/// what the parser reads. It holds symbols and syntax, so it never leaves the parse step.
/// </summary>
internal readonly struct AutocastTarget
{
    private AutocastTarget(SyntaxNode targetNode, ISymbol targetSymbol, SemanticModel semanticModel, ImmutableArray<AttributeData> attributes)
    {
        TargetNode = targetNode;
        TargetSymbol = targetSymbol;
        SemanticModel = semanticModel;
        Attributes = attributes;
    }

    /// <summary>The attributed declaration.</summary>
    public SyntaxNode TargetNode { get; }

    /// <summary>The declared class or method.</summary>
    public ISymbol TargetSymbol { get; }

    /// <summary>The model of <see cref="TargetNode"/>'s tree.</summary>
    public SemanticModel SemanticModel { get; }

    /// <summary>The [Autocast] attributes written on this declaration (not on other partial parts).</summary>
    public ImmutableArray<AttributeData> Attributes { get; }

    /// <summary>
    /// Syntax only: a class or method with an attribute named Autocast / AutocastAttribute, or named by
    /// a using alias of this file whose target is so named. An alias declared in another file (a global
    /// using alias) is not seen.
    /// </summary>
    public static bool IsCandidate(SyntaxNode node, CancellationToken cancellationToken)
    {
        if (node is not (ClassDeclarationSyntax or MethodDeclarationSyntax)) return false;
        var lists = ((MemberDeclarationSyntax)node).AttributeLists;
        if (lists.Count == 0) return false;
        foreach (var list in lists)
        {
            foreach (var attribute in list.Attributes)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var name = RightmostName(attribute.Name);
                if (IsAutocastName(name) || IsAutocastAlias(node, name)) return true;
            }
        }
        return false;
    }

    /// <summary>The bound target, or null when no attribute on the declaration is PrecisionPolicy.AutocastAttribute.</summary>
    public static AutocastTarget? Bind(SyntaxNode node, SemanticModel model, CancellationToken cancellationToken)
    {
        if (model.GetDeclaredSymbol(node, cancellationToken) is not { } symbol) return null;
        var autocast = KnownSymbols.For(model.Compilation).Autocast;
        if (autocast is null) return null;
        var attributes = symbol.GetAttributes()
            .Where(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, autocast)
                        && a.ApplicationSyntaxReference is { } reference
                        && reference.SyntaxTree == node.SyntaxTree
                        && node.Span.Contains(reference.Span))
            .ToImmutableArray();
        return attributes.IsEmpty ? null : new AutocastTarget(node, symbol, model, attributes);
    }

    private static bool IsAutocastName(string name) => name is "Autocast" or "AutocastAttribute";

    private static string RightmostName(NameSyntax name) => name switch
    {
        QualifiedNameSyntax qualified => qualified.Right.Identifier.ValueText,
        AliasQualifiedNameSyntax alias => alias.Name.Identifier.ValueText,
        SimpleNameSyntax simple => simple.Identifier.ValueText,
        _ => "",
    };

    private static bool IsAutocastAlias(SyntaxNode node, string name)
    {
        for (var scope = node.Parent; scope is not null; scope = scope.Parent)
        {
            var usings = scope switch
            {
                CompilationUnitSyntax unit => unit.Usings,
                BaseNamespaceDeclarationSyntax ns => ns.Usings,
                _ => default,
            };
            foreach (var directive in usings)
            {
                if (directive.Alias?.Name.Identifier.ValueText == name && directive.Name is { } target && IsAutocastName(RightmostName(target)))
                    return true;
            }
        }
        return false;
    }
}
