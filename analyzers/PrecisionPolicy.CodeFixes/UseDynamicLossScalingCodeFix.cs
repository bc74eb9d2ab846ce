namespace PrecisionPolicy.CodeFixes;

/// <summary>
/// PP0004, attribute form: <c>[LossScaling(LossScalingMode.Off)]</c> → <c>LossScalingMode.Dynamic</c>.
/// The training-loop form needs a scaler threaded through the loop and has no mechanical fix.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UseDynamicLossScalingCodeFix)), Shared]
public sealed class UseDynamicLossScalingCodeFix() : PrecisionCodeFix("Use dynamic loss scaling", DiagnosticIds.Fp16WithoutLossScaling)
{
    protected override Func<CancellationToken, Task<Document>>? CreateFix(Document document, SyntaxNode root, Diagnostic diagnostic) =>
        root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is MemberAccessExpressionSyntax
        {
            Name.Identifier.ValueText: "Off", Parent: AttributeArgumentSyntax,
        } mode
            ? Replace(document, mode, mode.WithName(SyntaxFactory.IdentifierName("Dynamic").WithTriviaFrom(mode.Name)))
            : null;
}
