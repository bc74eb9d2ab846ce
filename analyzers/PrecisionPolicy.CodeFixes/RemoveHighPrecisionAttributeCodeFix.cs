namespace PrecisionPolicy.CodeFixes;

/// <summary>PP0012: removes a [HighPrecision] that has no effect (and its attribute list when it was alone).</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RemoveHighPrecisionAttributeCodeFix)), Shared]
public sealed class RemoveHighPrecisionAttributeCodeFix() : PrecisionCodeFix("Remove [HighPrecision]", DiagnosticIds.HighPrecisionOnNonTensorMember)
{
    protected override Func<CancellationToken, Task<Document>>? CreateFix(Document document, SyntaxNode root, Diagnostic diagnostic) =>
        root.FindNode(diagnostic.Location.SourceSpan) is AttributeSyntax { Parent: AttributeListSyntax list } attribute
            ? Rewrite(document, current => Remove(current, list, attribute))
            : null;

    private static SyntaxNode? Remove(SyntaxNode root, AttributeListSyntax list, AttributeSyntax attribute)
    {
        if (list.Attributes.Count > 1)
        {
            return root.RemoveNode(attribute, SyntaxRemoveOptions.KeepNoTrivia);
        }

        // The member takes over the list's indentation; the list's line break goes with it.
        if (list.Parent is not MemberDeclarationSyntax member ||
            member.RemoveNode(list, SyntaxRemoveOptions.KeepNoTrivia) is not { } stripped)
        {
            return null;
        }

        var newMember = member.AttributeLists.IndexOf(list) == 0 ? stripped.WithLeadingTrivia(list.GetLeadingTrivia()) : stripped;
        return root.ReplaceNode(member, newMember);
    }
}
