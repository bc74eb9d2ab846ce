using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis.Simplification;
using PrecisionPolicy.Catalog;

namespace PrecisionPolicy.CodeFixes;

/// <summary>
/// PP0103 (reported by the source generator): a TorchSharp composite member (<c>TransformerEncoderLayer</c>,
/// <c>MultiheadAttention</c>, ...) becomes the policy-aware drop-in of <c>PrecisionPolicy.Modules</c> with the
/// same name, constructor parameters and state-dict names: the member's declared type and each
/// <c>TransformerEncoderLayer(...)</c> factory call that creates it (nested layers of an encoder or decoder
/// included) become <c>new PrecisionPolicy.Modules.TransformerEncoderLayer(...)</c>. Offered only when every
/// assignment of the member in the document is such a call, so the fixed code compiles.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UsePolicyCompositeCodeFix)), Shared]
public sealed class UsePolicyCompositeCodeFix()
    : PrecisionCodeFix("Use the policy-aware module from PrecisionPolicy.Modules", OpaqueComposite)
{
    /// <summary>The generator's OpaqueComposite diagnostic (generators/…/DiagnosticDescriptors.cs).</summary>
    private const string OpaqueComposite = "PP0103";

    private const string TorchSharpModules = "TorchSharp.Modules.";

    private const string DropInNamespace = "PrecisionPolicy.Modules";

    // The composite rows: the drop-ins exist for exactly these.
    private static readonly ImmutableHashSet<string> Composites = CastCatalog.ModulesOf(ModuleFamily.Transformer)
        .Concat(CastCatalog.ModulesOf(ModuleFamily.Attention))
        .Where(static r => r.CompositeKind is not null)
        .Select(static r => r.TypeName)
        .ToImmutableHashSet(StringComparer.Ordinal);

    protected override Func<CancellationToken, Task<Document>>? CreateFix(Document document, SyntaxNode root, Diagnostic diagnostic)
    {
        var node = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
        return node.AncestorsAndSelf().Any(static n => n is InvocationExpressionSyntax or VariableDeclaratorSyntax or PropertyDeclarationSyntax)
            ? ct => Swap(document, diagnostic.Location.SourceSpan, ct)
            : null;
    }

    private static async Task<Document> Swap(Document document, Microsoft.CodeAnalysis.Text.TextSpan span, CancellationToken ct)
    {
        var root = await document.GetSyntaxRootAsync(ct).ConfigureAwait(false);
        var model = await document.GetSemanticModelAsync(ct).ConfigureAwait(false);
        if (root is null || model is null) return document;
        var node = root.FindNode(span, getInnermostNodeForTie: true);
        if (MemberOf(node, model, ct) is not { } member) return document;
        if (Declaration(member, root) is not { } typeSyntax) return document;

        // Every value the member gets here: its initializer and each assignment.
        var values = new List<ExpressionSyntax>();
        foreach (var n in root.DescendantNodes())
        {
            if (n is VariableDeclaratorSyntax { Initializer.Value: { } init } declarator && Same(model.GetDeclaredSymbol(declarator, ct), member)) values.Add(init);
            else if (n is PropertyDeclarationSyntax { Initializer.Value: { } propertyInit } property && Same(model.GetDeclaredSymbol(property, ct), member)) values.Add(propertyInit);
            else if (n is AssignmentExpressionSyntax { Left: var left, Right: var right } && n.IsKind(SyntaxKind.SimpleAssignmentExpression)
                     && Same(model.GetSymbolInfo(left, ct).Symbol, member)) values.Add(right);
        }
        if (values.Count == 0 || values.Any(v => FactoryType(v, model, ct) is null)) return document;

        // The factory calls to replace: the values and every composite created inside their arguments.
        var calls = values.SelectMany(v => v.DescendantNodesAndSelf().OfType<InvocationExpressionSyntax>())
            .Where(c => FactoryType(c, model, ct) is not null)
            .ToList();
        // A nested composite that is not created right there (a local TorchSharp layer) would no longer fit.
        foreach (var call in calls)
        {
            foreach (var argument in call.ArgumentList.Arguments)
            {
                if (model.GetTypeInfo(argument.Expression, ct).Type is INamedTypeSymbol argType && Composites.Contains(argType.ToDisplayString())
                    && FactoryType(argument.Expression, model, ct) is null) return document;
            }
        }

        var replacements = new Dictionary<SyntaxNode, SyntaxNode> { [typeSyntax] = DropInType(MemberTypeName(member)!).WithTriviaFrom(typeSyntax) };
        foreach (var call in calls) replacements[call] = call;
        var fixedRoot = root.ReplaceNodes(replacements.Keys, (original, rewritten) =>
        {
            if (original == typeSyntax) return replacements[original];
            var call = (InvocationExpressionSyntax)rewritten;
            var name = FactoryType((InvocationExpressionSyntax)original, model, ct)!;
            return SyntaxFactory.ObjectCreationExpression(DropInType(name).WithLeadingTrivia(SyntaxFactory.Space), call.ArgumentList, null)
                .WithTriviaFrom(call);
        });
        return document.WithSyntaxRoot(fixedRoot);
    }

    private static bool Same(ISymbol? a, ISymbol b) => SymbolEqualityComparer.Default.Equals(a, b);

    /// <summary>The field or property PP0103 names: the receiver of <c>member.call(...)</c>, or the declaration itself.</summary>
    private static ISymbol? MemberOf(SyntaxNode node, SemanticModel model, CancellationToken ct)
    {
        foreach (var n in node.AncestorsAndSelf())
        {
            switch (n)
            {
                case InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax access }:
                    return model.GetSymbolInfo(access.Expression, ct).Symbol is IFieldSymbol or IPropertySymbol ? model.GetSymbolInfo(access.Expression, ct).Symbol : null;
                case VariableDeclaratorSyntax declarator:
                    return model.GetDeclaredSymbol(declarator, ct);
                case PropertyDeclarationSyntax property:
                    return model.GetDeclaredSymbol(property, ct);
            }
        }
        return null;
    }

    /// <summary>The member's declared type syntax in this document, when the member is a composite and declared alone.</summary>
    private static TypeSyntax? Declaration(ISymbol member, SyntaxNode root)
    {
        if (MemberTypeName(member) is null) return null;
        foreach (var reference in member.DeclaringSyntaxReferences)
        {
            if (reference.SyntaxTree != root.SyntaxTree) continue;
            var syntax = reference.GetSyntax();
            if (syntax is VariableDeclaratorSyntax { Parent: VariableDeclarationSyntax { Variables.Count: 1 } declaration }) return declaration.Type;
            if (syntax is PropertyDeclarationSyntax property) return property.Type;
        }
        return null;
    }

    /// <summary>The TorchSharp composite's short name when <paramref name="member"/> is declared with its type.</summary>
    private static string? MemberTypeName(ISymbol member)
    {
        var type = member switch
        {
            IFieldSymbol field => field.Type,
            IPropertySymbol property => property.Type,
            _ => null,
        };
        var name = type?.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat.WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted));
        return name is not null && Composites.Contains(name) ? name.Substring(TorchSharpModules.Length) : null;
    }

    /// <summary>The composite a TorchSharp factory call (<c>torch.nn.TransformerEncoderLayer(...)</c>) creates, if it is one.</summary>
    private static string? FactoryType(ExpressionSyntax expression, SemanticModel model, CancellationToken ct)
    {
        if (expression is not InvocationExpressionSyntax) return null;
        if (model.GetSymbolInfo(expression, ct).Symbol is not IMethodSymbol { IsStatic: true } method) return null;
        if (method.ContainingType?.ToDisplayString() != "TorchSharp.torch.nn") return null;
        var result = method.ReturnType.ToDisplayString();
        return Composites.Contains(result) && method.Name == result.Substring(TorchSharpModules.Length) ? method.Name : null;
    }

    private static TypeSyntax DropInType(string name) =>
        SyntaxFactory.ParseTypeName("global::" + DropInNamespace + "." + name).WithAdditionalAnnotations(Simplifier.Annotation);
}
