using System;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using PrecisionPolicy.Analyzers;

namespace PrecisionPolicy.CodeFixes;

/// <summary>PP0013: swaps the ForwardFormat and BackwardFormat values of an [Fp8Recipe].</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(SwapFp8FormatsCodeFix)), Shared]
public sealed class SwapFp8FormatsCodeFix : PrecisionCodeFix
{
    protected override string Title => "Swap the FP8 formats (E4M3 forward, E5M2 backward)";

    public override ImmutableArray<string> FixableDiagnosticIds { get; } =
        ImmutableArray.Create(DiagnosticIds.Fp8FormatsSwapped);

    protected override Func<CancellationToken, Task<Document>>? CreateFix(Document document, SyntaxNode root, Diagnostic diagnostic) =>
        root.FindNode(diagnostic.Location.SourceSpan) is AttributeSyntax attribute &&
        Argument(attribute, "ForwardFormat") is { } forward &&
        Argument(attribute, "BackwardFormat") is { } backward
            ? ct => Swap(document, forward, backward, ct)
            : null;

    private static AttributeArgumentSyntax? Argument(AttributeSyntax attribute, string name) =>
        attribute.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == name);

    private static async Task<Document> Swap(
        Document document, AttributeArgumentSyntax forward, AttributeArgumentSyntax backward, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return document;
        }

        var newRoot = root.ReplaceNodes(
            [forward.Expression, backward.Expression],
            (original, _) => original == forward.Expression
                ? backward.Expression.WithTriviaFrom(forward.Expression)
                : forward.Expression.WithTriviaFrom(backward.Expression));
        return document.WithSyntaxRoot(newRoot);
    }
}
