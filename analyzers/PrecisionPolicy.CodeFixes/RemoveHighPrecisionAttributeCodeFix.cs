using System;
using System.Collections.Immutable;
using System.Composition;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using PrecisionPolicy.Analyzers;

namespace PrecisionPolicy.CodeFixes;

/// <summary>PP0012: removes a [HighPrecision] that has no effect (and its attribute list when it was alone).</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RemoveHighPrecisionAttributeCodeFix)), Shared]
public sealed class RemoveHighPrecisionAttributeCodeFix : PrecisionCodeFix
{
    protected override string Title => "Remove [HighPrecision]";

    public override ImmutableArray<string> FixableDiagnosticIds { get; } =
        ImmutableArray.Create(DiagnosticIds.HighPrecisionOnNonTensorMember);

    protected override Func<CancellationToken, Task<Document>>? CreateFix(Document document, SyntaxNode root, Diagnostic diagnostic) =>
        root.FindNode(diagnostic.Location.SourceSpan) is AttributeSyntax { Parent: AttributeListSyntax list } attribute
            ? ct => Remove(document, list, attribute, ct)
            : null;

    private static async Task<Document> Remove(Document document, AttributeListSyntax list, AttributeSyntax attribute, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return document;
        }

        if (list.Attributes.Count > 1)
        {
            var withoutAttribute = root.RemoveNode(attribute, SyntaxRemoveOptions.KeepNoTrivia);
            return withoutAttribute is null ? document : document.WithSyntaxRoot(withoutAttribute);
        }

        // The member takes over the list's indentation; the list's line break goes with it.
        if (list.Parent is not MemberDeclarationSyntax member ||
            member.RemoveNode(list, SyntaxRemoveOptions.KeepNoTrivia) is not { } stripped)
        {
            return document;
        }

        var newMember = member.AttributeLists.IndexOf(list) == 0 ? stripped.WithLeadingTrivia(list.GetLeadingTrivia()) : stripped;
        var newRoot = root.ReplaceNode(member, newMember);
        return document.WithSyntaxRoot(newRoot);
    }
}
