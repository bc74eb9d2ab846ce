using Microsoft.CodeAnalysis.Formatting;
using PrecisionPolicy.Analyzers.Rules;

namespace PrecisionPolicy.CodeFixes;

/// <summary>
/// PP0006: wraps <c>scheduler.step();</c> in <c>if (outcome.Applied) { ... }</c> when the step
/// outcome is in a local. Without one the fix is not offered (AttachScheduler needs a place
/// outside the loop, which is a judgement call).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(GuardSchedulerStepCodeFix)), Shared]
public sealed class GuardSchedulerStepCodeFix()
    : PrecisionCodeFix("Step the scheduler only when the optimizer step was applied", DiagnosticIds.SchedulerSteppedOnSkippableStep)
{
    protected override Func<CancellationToken, Task<Document>>? CreateFix(Document document, SyntaxNode root, Diagnostic diagnostic) =>
        diagnostic.Properties.TryGetValue(SchedulerSteppedOnSkippableStepAnalyzer.OutcomeVariableProperty, out var outcome) &&
        outcome is not null &&
        root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is InvocationExpressionSyntax
        {
            Parent: ExpressionStatementSyntax { Parent: BlockSyntax } statement,
        }
            ? Rewrite(document, current => current.ReplaceNode(statement, Guarded(statement, outcome)))
            : null;

    private static IfStatementSyntax Guarded(ExpressionStatementSyntax statement, string outcome)
    {
        var condition = SyntaxFactory.MemberAccessExpression(
            SyntaxKind.SimpleMemberAccessExpression, SyntaxFactory.IdentifierName(outcome), SyntaxFactory.IdentifierName("Applied"));
        return SyntaxFactory.IfStatement(condition, SyntaxFactory.Block(statement.WithoutTrivia()))
            .WithTriviaFrom(statement)
            .WithAdditionalAnnotations(Formatter.Annotation);
    }
}
