using System.Collections.Immutable;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.Text;

namespace PrecisionPolicy.CodeFixes;

/// <summary>
/// What every PrecisionPolicy fix shares: the rules it fixes, one code action per diagnostic whose syntax the fix
/// recognises, a title, an equivalence key (the fix's type name) and batch Fix All; and the edits a fix makes,
/// applied to the document's root when the action runs (the shape of Roslyn's <c>SyntaxEditorBasedCodeFixProvider</c>,
/// with BatchFixer merging each diagnostic's edit).
/// </summary>
/// <param name="title">The code action's title.</param>
/// <param name="diagnosticIds">The rules the fix is offered for.</param>
public abstract class PrecisionCodeFix(string title, params string[] diagnosticIds) : CodeFixProvider
{
    public sealed override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(diagnosticIds);

    public sealed override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public sealed override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return;
        }

        foreach (var diagnostic in context.Diagnostics)
        {
            if (CreateFix(context.Document, root, diagnostic) is { } fix)
            {
                context.RegisterCodeFix(CodeAction.Create(title, fix, equivalenceKey: GetType().Name), diagnostic);
            }
        }
    }

    /// <summary>The edit for one diagnostic, or null when its syntax is not what the fix expects (incomplete code).</summary>
    protected abstract Func<CancellationToken, Task<Document>>? CreateFix(Document document, SyntaxNode root, Diagnostic diagnostic);

    /// <summary>An edit that rewrites the document's root; a null new root leaves the document as it was.</summary>
    protected static Func<CancellationToken, Task<Document>> Rewrite(Document document, Func<SyntaxNode, SyntaxNode?> rewrite) =>
        async cancellationToken =>
        {
            var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
            return root is not null && rewrite(root) is { } newRoot ? document.WithSyntaxRoot(newRoot) : document;
        };

    /// <summary>An edit that puts <paramref name="replacement"/> where <paramref name="node"/> is.</summary>
    protected static Func<CancellationToken, Task<Document>> Replace(Document document, SyntaxNode node, SyntaxNode replacement) =>
        Rewrite(document, root => root.ReplaceNode(node, replacement));

    /// <summary>The node a diagnostic sits on; for an argument, the argument's expression.</summary>
    protected static SyntaxNode DiagnosedNode(SyntaxNode root, TextSpan span)
    {
        var node = root.FindNode(span, getInnermostNodeForTie: true);
        return node is ArgumentSyntax argument ? argument.Expression : node;
    }

    /// <summary>The call <paramref name="expression"/> is an argument of (<c>x.to(dtype)</c> for <c>dtype</c>), if it is one.</summary>
    protected static InvocationExpressionSyntax? CallWithArgument(ExpressionSyntax expression) =>
        expression.Parent is ArgumentSyntax { Parent: ArgumentListSyntax { Parent: InvocationExpressionSyntax call } } ? call : null;
}
