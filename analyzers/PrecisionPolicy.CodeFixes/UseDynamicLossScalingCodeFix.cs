using System.Collections.Immutable;
using System.Composition;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
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
public sealed class UseDynamicLossScalingCodeFix : CodeFixProvider
{
    private const string Title = "Use dynamic loss scaling";

    public override ImmutableArray<string> FixableDiagnosticIds { get; } =
        ImmutableArray.Create(DiagnosticIds.Fp16WithoutLossScaling);

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (var diagnostic in context.Diagnostics)
        {
            if (root?.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is MemberAccessExpressionSyntax
                {
                    Name.Identifier.ValueText: "Off", Parent: AttributeArgumentSyntax,
                } mode)
            {
                context.RegisterCodeFix(
                    CodeAction.Create(Title, ct => UseDynamic(context.Document, mode, ct), nameof(UseDynamicLossScalingCodeFix)),
                    diagnostic);
            }
        }
    }

    private static async Task<Document> UseDynamic(Document document, MemberAccessExpressionSyntax mode, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        return root is null
            ? document
            : document.WithSyntaxRoot(root.ReplaceNode(mode, mode.WithName(SyntaxFactory.IdentifierName("Dynamic").WithTriviaFrom(mode.Name))));
    }
}
