using Microsoft.CodeAnalysis.Simplification;
using PrecisionPolicy.Analyzers.Rules;

namespace PrecisionPolicy.CodeFixes;

/// <summary>
/// PP0021: replaces a fill the tensor's dtype cannot hold with that dtype's own extreme:
/// <c>scores.masked_fill(mask, -1e9)</c> → <c>scores.masked_fill(mask, torch.finfo(scores.dtype).min)</c>
/// when the filled tensor is a name (a local, field or property, possibly qualified: repeating it evaluates
/// nothing twice); otherwise the fill becomes an infinity of the same sign, which every floating dtype holds.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UseFinfoLimitCodeFix)), Shared]
public sealed class UseFinfoLimitCodeFix() : PrecisionCodeFix("Use the dtype's own limit", DiagnosticIds.FillOutOfRange)
{
    protected override Func<CancellationToken, Task<Document>>? CreateFix(Document document, SyntaxNode root, Diagnostic diagnostic)
    {
        if (DiagnosedNode(root, diagnostic.Location.SourceSpan) is not ExpressionSyntax value ||
            !diagnostic.Properties.TryGetValue(FillOutOfRangeAnalyzer.LimitProperty, out var limit) || limit is not ("min" or "max") ||
            CallWithArgument(value) is not { } call)
        {
            return null;
        }

        var text = Tensor(call) is { } tensor
            ? $"global::TorchSharp.torch.finfo({tensor.WithoutTrivia()}.dtype).{limit}"
            : limit == "min" ? "double.NegativeInfinity" : "double.PositiveInfinity";
        var replacement = SyntaxFactory.ParseExpression(text)
            .WithAdditionalAnnotations(Simplifier.Annotation)
            .WithTriviaFrom(value);
        return Replace(document, value, replacement);
    }

    /// <summary>The filled tensor: the receiver of <c>t.masked_fill(...)</c>, the first argument of <c>full_like(t, v)</c>; only a name.</summary>
    private static ExpressionSyntax? Tensor(InvocationExpressionSyntax call)
    {
        var arguments = call.ArgumentList.Arguments;
        var tensor = call.Expression is MemberAccessExpressionSyntax { Name.Identifier.ValueText: "full_like" }
            ? arguments.Count > 0 ? arguments[0].Expression : null
            : call.Expression is MemberAccessExpressionSyntax access ? access.Expression : null;
        return IsName(tensor) ? tensor : null;
    }

    private static bool IsName(ExpressionSyntax? expression) => expression switch
    {
        IdentifierNameSyntax or ThisExpressionSyntax => true,
        MemberAccessExpressionSyntax { Expression: var inner } => IsName(inner),
        _ => false,
    };
}
