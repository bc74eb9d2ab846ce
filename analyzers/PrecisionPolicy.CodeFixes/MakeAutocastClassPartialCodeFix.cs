using System.Collections.Generic;
using System.Linq;

namespace PrecisionPolicy.CodeFixes;

/// <summary>PP0010: adds <c>partial</c> to the [Autocast] class and to each containing type that lacks it.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MakeAutocastClassPartialCodeFix)), Shared]
public sealed class MakeAutocastClassPartialCodeFix() : PrecisionCodeFix("Make the class partial", DiagnosticIds.AutocastClassNotPartial)
{
    protected override Func<CancellationToken, Task<Document>>? CreateFix(Document document, SyntaxNode root, Diagnostic diagnostic)
    {
        var token = root.FindToken(diagnostic.Location.SourceSpan.Start);
        return token.Parent is TypeDeclarationSyntax declaration && declaration.Identifier == token
            ? Rewrite(document, current => current.ReplaceNodes(NotPartial(declaration), static (_, rewritten) => AddPartial(rewritten)))
            : null;
    }

    /// <summary>The declaration and the types containing it that lack <c>partial</c>.</summary>
    private static IEnumerable<TypeDeclarationSyntax> NotPartial(TypeDeclarationSyntax declaration) =>
        declaration.AncestorsAndSelf().OfType<TypeDeclarationSyntax>().Where(static t => !t.Modifiers.Any(SyntaxKind.PartialKeyword));

    /// <summary><c>partial</c> goes last among the modifiers, just before <c>class</c>.</summary>
    private static TypeDeclarationSyntax AddPartial(TypeDeclarationSyntax type)
    {
        if (type.Modifiers.Count == 0)
        {
            var keyword = type.Keyword;
            return type
                .WithKeyword(keyword.WithLeadingTrivia(SyntaxFactory.TriviaList()))
                .WithModifiers(SyntaxFactory.TokenList(
                    SyntaxFactory.Token(keyword.LeadingTrivia, SyntaxKind.PartialKeyword, SyntaxFactory.TriviaList(SyntaxFactory.Space))));
        }

        return type.WithModifiers(type.Modifiers.Add(
            SyntaxFactory.Token(SyntaxKind.PartialKeyword).WithTrailingTrivia(SyntaxFactory.Space)));
    }
}
