using System.Linq;
using Microsoft.CodeAnalysis.Simplification;

namespace PrecisionPolicy.CodeFixes;

/// <summary>
/// PP0017: <c>zeros_like(p)</c> → <c>zeros_like(p, dtype: ScalarType.Float32)</c>. The dtype is
/// written fully qualified and simplified to the shortest name in scope. A <c>.to(other)</c> copy
/// gets no fix (the right dtype is a choice).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddFloat32DtypeCodeFix)), Shared]
public sealed class AddFloat32DtypeCodeFix() : PrecisionCodeFix("Create it in float32", DiagnosticIds.StateInheritsLowPrecision)
{
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
        if (name is null || !name.EndsWith("_like", StringComparison.Ordinal) || arguments.Count == 0 ||
            !arguments.Skip(1).All(static a => a.NameColon is { Name.Identifier.ValueText: not "dtype" }))
        {
            return null;
        }

        var dtype = SyntaxFactory.Argument(
            SyntaxFactory.NameColon("dtype"),
            default,
            SyntaxFactory.ParseExpression(Float32Syntax.ScalarTypeFloat32).WithAdditionalAnnotations(Simplifier.Annotation));
        var addDtype = Replace(document, call, call.WithArgumentList(call.ArgumentList.AddArguments(dtype)));
        return async ct => await Simplifier.ReduceAsync(await addDtype(ct).ConfigureAwait(false), Simplifier.Annotation, cancellationToken: ct).ConfigureAwait(false);
    }
}
