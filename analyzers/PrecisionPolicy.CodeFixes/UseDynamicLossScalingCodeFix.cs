using System;
using System.Collections.Immutable;
using System.Composition;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using PrecisionPolicy.Analyzers;

namespace PrecisionPolicy.CodeFixes;

/// <summary>
/// PP0004, attribute form: <c>[LossScaling(LossScalingMode.Off)]</c> → <c>LossScalingMode.Dynamic</c>.
/// The training-loop form needs a scaler threaded through the loop and has no mechanical fix.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UseDynamicLossScalingCodeFix)), Shared]
public sealed class UseDynamicLossScalingCodeFix : PrecisionCodeFix
{
    protected override string Title => "Use dynamic loss scaling";

    public override ImmutableArray<string> FixableDiagnosticIds { get; } =
        ImmutableArray.Create(DiagnosticIds.Fp16WithoutLossScaling);

    protected override Func<CancellationToken, Task<Document>>? CreateFix(Document document, SyntaxNode root, Diagnostic diagnostic) =>
        root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is MemberAccessExpressionSyntax
        {
            Name.Identifier.ValueText: "Off", Parent: AttributeArgumentSyntax,
        } mode
            ? ct => UseDynamic(document, mode, ct)
            : null;

    private static async Task<Document> UseDynamic(Document document, MemberAccessExpressionSyntax mode, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        return root is null
            ? document
            : document.WithSyntaxRoot(root.ReplaceNode(mode, mode.WithName(SyntaxFactory.IdentifierName("Dynamic").WithTriviaFrom(mode.Name))));
    }
}
