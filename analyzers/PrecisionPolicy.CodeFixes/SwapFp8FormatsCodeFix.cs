using System.Linq;

namespace PrecisionPolicy.CodeFixes;

/// <summary>PP0013: swaps the ForwardFormat and BackwardFormat values of an [Fp8Recipe].</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(SwapFp8FormatsCodeFix)), Shared]
public sealed class SwapFp8FormatsCodeFix()
    : PrecisionCodeFix("Swap the FP8 formats (E4M3 forward, E5M2 backward)", DiagnosticIds.Fp8FormatsSwapped)
{
    protected override Func<CancellationToken, Task<Document>>? CreateFix(Document document, SyntaxNode root, Diagnostic diagnostic) =>
        root.FindNode(diagnostic.Location.SourceSpan) is AttributeSyntax attribute &&
        Argument(attribute, "ForwardFormat") is { } forward &&
        Argument(attribute, "BackwardFormat") is { } backward
            ? Rewrite(document, current => Swap(current, forward.Expression, backward.Expression))
            : null;

    private static AttributeArgumentSyntax? Argument(AttributeSyntax attribute, string name) =>
        attribute.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == name);

    private static SyntaxNode Swap(SyntaxNode root, ExpressionSyntax forward, ExpressionSyntax backward) =>
        root.ReplaceNodes(
            [forward, backward],
            (original, _) => original == forward ? backward.WithTriviaFrom(forward) : forward.WithTriviaFrom(backward));
}
