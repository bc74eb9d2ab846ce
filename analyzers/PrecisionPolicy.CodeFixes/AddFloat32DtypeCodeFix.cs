using System;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Simplification;
using PrecisionPolicy.Analyzers;

namespace PrecisionPolicy.CodeFixes;

/// <summary>
/// PP0017: <c>zeros_like(p)</c> → <c>zeros_like(p, dtype: ScalarType.Float32)</c>. The dtype is
/// written fully qualified and simplified to the shortest name in scope. A <c>.to(other)</c> copy
/// gets no fix (the right dtype is a choice).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddFloat32DtypeCodeFix)), Shared]
public sealed class AddFloat32DtypeCodeFix : PrecisionCodeFix
{
    protected override string Title => "Create it in float32";

    public override ImmutableArray<string> FixableDiagnosticIds { get; } =
        ImmutableArray.Create(DiagnosticIds.StateInheritsLowPrecision);

    protected override Func<CancellationToken, Task<Document>>? CreateFix(Document document, SyntaxNode root, Diagnostic diagnostic)
    {
        if (root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not InvocationExpressionSyntax call)
        {
            return null;
        }

        var name = call.Expression switch
        {
            MemberAccessExpressionSyntax access => access.Name.Identifier.ValueText,
            IdentifierNameSyntax identifier => identifier.Identifier.ValueText,
            _ => null,
        };

        // Only the input is positional (a second positional argument would be the dtype itself).
        var arguments = call.ArgumentList.Arguments;
        return name is not null && name.EndsWith("_like", StringComparison.Ordinal) &&
            arguments.Count > 0 &&
            arguments.Skip(1).All(static a => a.NameColon is { Name.Identifier.ValueText: not "dtype" })
            ? ct => AddDtype(document, call, ct)
            : null;
    }

    private static async Task<Document> AddDtype(Document document, InvocationExpressionSyntax call, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return document;
        }

        var dtype = SyntaxFactory.Argument(
            SyntaxFactory.NameColon("dtype"),
            default,
            SyntaxFactory.ParseExpression("global::TorchSharp.torch.ScalarType.Float32").WithAdditionalAnnotations(Simplifier.Annotation));
        var fixedCall = call.WithArgumentList(call.ArgumentList.AddArguments(dtype));
        var edited = document.WithSyntaxRoot(root.ReplaceNode(call, fixedCall));
        return await Simplifier.ReduceAsync(edited, Simplifier.Annotation, cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}
