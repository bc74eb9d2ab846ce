using System;
using System.Collections.Immutable;
using System.Composition;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Formatting;
using PrecisionPolicy.Analyzers;
using PrecisionPolicy.Analyzers.Rules;

namespace PrecisionPolicy.CodeFixes;

/// <summary>
/// PP0006: wraps <c>scheduler.step();</c> in <c>if (outcome.Applied) { ... }</c> when the step
/// outcome is in a local. Without one the fix is not offered (AttachScheduler needs a place
/// outside the loop, which is a judgement call).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(GuardSchedulerStepCodeFix)), Shared]
public sealed class GuardSchedulerStepCodeFix : PrecisionCodeFix
{
    protected override string Title => "Step the scheduler only when the optimizer step was applied";

    public override ImmutableArray<string> FixableDiagnosticIds { get; } =
        ImmutableArray.Create(DiagnosticIds.SchedulerSteppedOnSkippableStep);

    protected override Func<CancellationToken, Task<Document>>? CreateFix(Document document, SyntaxNode root, Diagnostic diagnostic) =>
        diagnostic.Properties.TryGetValue(SchedulerSteppedOnSkippableStepAnalyzer.OutcomeVariableProperty, out var outcome) &&
        outcome is not null &&
        root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is InvocationExpressionSyntax
        {
            Parent: ExpressionStatementSyntax { Parent: BlockSyntax } statement,
        }
            ? ct => Guard(document, statement, outcome, ct)
            : null;

    private static async Task<Document> Guard(Document document, ExpressionStatementSyntax statement, string outcome, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return document;
        }

        var condition = SyntaxFactory.MemberAccessExpression(
            SyntaxKind.SimpleMemberAccessExpression, SyntaxFactory.IdentifierName(outcome), SyntaxFactory.IdentifierName("Applied"));
        var guarded = SyntaxFactory.IfStatement(condition, SyntaxFactory.Block(statement.WithoutTrivia()))
            .WithTriviaFrom(statement)
            .WithAdditionalAnnotations(Formatter.Annotation);
        return document.WithSyntaxRoot(root.ReplaceNode(statement, guarded));
    }
}
