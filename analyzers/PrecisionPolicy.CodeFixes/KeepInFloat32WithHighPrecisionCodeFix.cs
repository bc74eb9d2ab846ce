using System.Linq;
using PrecisionPolicy.Analyzers.Rules;

namespace PrecisionPolicy.CodeFixes;

/// <summary>
/// PP0030: puts <c>[HighPrecision]</c> on the module member the flagged call goes through
/// (<c>fc.call(x)</c> → on the field <c>fc</c>) or, for an op call, on the enclosing method, so the
/// generator computes the call in float32. Nothing is offered when that declaration is in another file.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(KeepInFloat32WithHighPrecisionCodeFix)), Shared]
public sealed class KeepInFloat32WithHighPrecisionCodeFix()
    : PrecisionCodeFix("Compute it in float32 ([HighPrecision])", DiagnosticIds.NumericsTraceFinding)
{
    protected override Func<CancellationToken, Task<Document>>? CreateFix(Document document, SyntaxNode root, Diagnostic diagnostic)
    {
        if (!diagnostic.Location.IsInSource || !diagnostic.Properties.TryGetValue(NumericsTraceFindingAnalyzer.TargetProperty, out var target))
        {
            return null;
        }

        var node = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
        MemberDeclarationSyntax? declaration = null;
        LocalFunctionStatementSyntax? localFunction = null;
        if (target == NumericsTraceFindingAnalyzer.TargetMember &&
            diagnostic.Properties.TryGetValue(NumericsTraceFindingAnalyzer.MemberProperty, out var member) && member is not null)
        {
            declaration = node.FirstAncestorOrSelf<TypeDeclarationSyntax>()?.Members.FirstOrDefault(m => Declares(m, member));
        }
        else if (target == NumericsTraceFindingAnalyzer.TargetMethod)
        {
            var enclosing = node.Ancestors().FirstOrDefault(static a => a is MethodDeclarationSyntax or LocalFunctionStatementSyntax or AccessorDeclarationSyntax or TypeDeclarationSyntax);
            declaration = enclosing as MethodDeclarationSyntax;
            localFunction = enclosing as LocalFunctionStatementSyntax;
        }

        var name = AttributeName(root);
        if (declaration is not null)
        {
            var fixedDeclaration = declaration.WithAttributeLists(Prepend(declaration.AttributeLists, declaration.GetLeadingTrivia(), name, root));
            return Replace(document, declaration, WithIndentOnly(fixedDeclaration, declaration));
        }

        if (localFunction is not null)
        {
            var fixedFunction = localFunction.WithAttributeLists(Prepend(localFunction.AttributeLists, localFunction.GetLeadingTrivia(), name, root));
            return Replace(document, localFunction, WithIndentOnly(fixedFunction, localFunction));
        }

        return null;
    }

    private static bool Declares(MemberDeclarationSyntax member, string name) => member switch
    {
        FieldDeclarationSyntax field => field.Declaration.Variables.Any(v => v.Identifier.ValueText == name),
        PropertyDeclarationSyntax property => property.Identifier.ValueText == name,
        _ => false,
    };

    /// <summary><c>HighPrecision</c> where <c>using PrecisionPolicy;</c> (or an enclosing PrecisionPolicy namespace) makes it resolve, else qualified.</summary>
    private static string AttributeName(SyntaxNode root)
    {
        var imported = root.DescendantNodes(static n => n is CompilationUnitSyntax or BaseNamespaceDeclarationSyntax)
            .OfType<UsingDirectiveSyntax>()
            .Any(static u => u.Alias is null && u.StaticKeyword.IsKind(SyntaxKind.None) && u.Name?.ToString() == "PrecisionPolicy");
        var inside = root.DescendantNodes(static n => n is CompilationUnitSyntax or BaseNamespaceDeclarationSyntax)
            .OfType<BaseNamespaceDeclarationSyntax>()
            .Any(static n => n.Name.ToString() == "PrecisionPolicy" || n.Name.ToString().StartsWith("PrecisionPolicy.", StringComparison.Ordinal));
        return imported || inside ? "HighPrecision" : "PrecisionPolicy.HighPrecision";
    }

    /// <summary>The new attribute list takes the declaration's leading trivia (comments, indentation) and its own line.</summary>
    private static SyntaxList<AttributeListSyntax> Prepend(SyntaxList<AttributeListSyntax> lists, SyntaxTriviaList leading, string name, SyntaxNode root)
    {
        var newLine = root.DescendantTrivia().FirstOrDefault(static t => t.IsKind(SyntaxKind.EndOfLineTrivia));
        // Tokens with empty trivia, not the factory's elastic ones: the fix's text is final, nothing is left for the formatter.
        var list = SyntaxFactory.AttributeList(
                SyntaxFactory.Token(default, SyntaxKind.OpenBracketToken, default),
                null,
                SyntaxFactory.SingletonSeparatedList(SyntaxFactory.Attribute(SyntaxFactory.ParseName(name))),
                SyntaxFactory.Token(default, SyntaxKind.CloseBracketToken, default))
            .WithLeadingTrivia(leading)
            .WithTrailingTrivia(newLine.IsKind(SyntaxKind.EndOfLineTrivia) ? newLine : SyntaxFactory.LineFeed);
        return lists.Insert(0, list);
    }

    /// <summary>What followed the new attribute list keeps only the indentation of the original declaration's line.</summary>
    private static T WithIndentOnly<T>(T rewritten, T original) where T : SyntaxNode
    {
        var indentation = original.GetLeadingTrivia().Reverse().TakeWhile(static t => t.IsKind(SyntaxKind.WhitespaceTrivia)).Reverse();
        // The first token is the new list's '['; the token after the list (the old first token) gets the indentation.
        var afterList = rewritten.ChildNodes().OfType<AttributeListSyntax>().First().GetLastToken().GetNextToken();
        return rewritten.ReplaceToken(afterList, afterList.WithLeadingTrivia(indentation));
    }
}
