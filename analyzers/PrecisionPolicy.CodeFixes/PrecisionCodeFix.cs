using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;

namespace PrecisionPolicy.CodeFixes;

/// <summary>
/// What every PrecisionPolicy fix shares: one code action per diagnostic whose syntax the fix
/// recognises, a title, an equivalence key (the fix's type name) and batch Fix All.
/// </summary>
public abstract class PrecisionCodeFix : CodeFixProvider
{
    /// <summary>The code action's title.</summary>
    protected abstract string Title { get; }

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
                context.RegisterCodeFix(CodeAction.Create(Title, fix, equivalenceKey: GetType().Name), diagnostic);
            }
        }
    }

    /// <summary>The edit for one diagnostic, or null when its syntax is not what the fix expects (incomplete code).</summary>
    protected abstract Func<CancellationToken, Task<Document>>? CreateFix(Document document, SyntaxNode root, Diagnostic diagnostic);
}
