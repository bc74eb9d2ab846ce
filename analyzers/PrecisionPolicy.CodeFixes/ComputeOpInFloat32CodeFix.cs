using PrecisionPolicy.Analyzers.Rules;
using static PrecisionPolicy.CodeFixes.Float32Syntax;

namespace PrecisionPolicy.CodeFixes;

/// <summary>
/// PP0019: computes a float32 op of the catalogue in float32 on an input that is already 16-bit, and
/// hands the result back in the input's dtype: <c>h.pow(2)</c> → <c>h.@float().pow(2).half()</c>,
/// <c>torch.exp(r)</c> → <c>torch.exp(r.@float()).half()</c>. A loss keeps its float32 result
/// (<c>mse_loss(y16, t)</c> → <c>mse_loss(y16.@float(), t)</c>). No fix for float8 inputs.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ComputeOpInFloat32CodeFix)), Shared]
public sealed class ComputeOpInFloat32CodeFix() : PrecisionCodeFix("Compute it in float32", DiagnosticIds.LossOnLowPrecisionTensors)
{
    protected override Func<CancellationToken, Task<Document>>? CreateFix(Document document, SyntaxNode root, Diagnostic diagnostic)
    {
        if (root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not InvocationExpressionSyntax op ||
            !diagnostic.Properties.TryGetValue(LossOnLowPrecisionTensorsAnalyzer.KindProperty, out var kind))
        {
            return null;
        }

        var castBack = kind switch
        {
            "float16" => "half",
            "bfloat16" => "bfloat16",
            _ => null,
        };
        var isLoss = diagnostic.Properties.ContainsKey(SensitiveOpInLowPrecisionAnalyzer.IsLossProperty);
        if (castBack is null && !isLoss)
        {
            return null;
        }

        // The input: the receiver of x.op(...), else the first argument of torch.op(x, ...), as the analyzer saw it.
        diagnostic.Properties.TryGetValue(LossOnLowPrecisionTensorsAnalyzer.InputProperty, out var input);
        InvocationExpressionSyntax computed;
        if (input == LossOnLowPrecisionTensorsAnalyzer.InputReceiver && op.Expression is MemberAccessExpressionSyntax access)
        {
            computed = op.WithExpression(access.WithExpression(Float(access.Expression)));
        }
        else if (input == LossOnLowPrecisionTensorsAnalyzer.InputFirstArgument && op.ArgumentList.Arguments.Count > 0)
        {
            var first = op.ArgumentList.Arguments[0];
            computed = op.ReplaceNode(first, first.WithExpression(Float(first.Expression)));
        }
        else
        {
            return null;
        }

        ExpressionSyntax replacement = isLoss
            ? computed
            : SyntaxFactory.InvocationExpression(
                SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, computed.WithoutTrivia(), SyntaxFactory.IdentifierName(castBack!)));
        return Replace(document, op, replacement.WithTriviaFrom(op));
    }

    /// <summary><c>x</c> → <c>x.@float()</c>, parenthesized when <c>x</c> is not a primary expression.</summary>
    private static ExpressionSyntax Float(ExpressionSyntax input)
    {
        var receiver = input is IdentifierNameSyntax or MemberAccessExpressionSyntax or InvocationExpressionSyntax or ElementAccessExpressionSyntax
            or ParenthesizedExpressionSyntax or PostfixUnaryExpressionSyntax { RawKind: (int)SyntaxKind.SuppressNullableWarningExpression } or ThisExpressionSyntax
            ? input.WithoutTrivia()
            : SyntaxFactory.ParenthesizedExpression(input.WithoutTrivia());
        return SyntaxFactory.InvocationExpression(
            SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, receiver, FloatMethodName()))
            .WithTriviaFrom(input);
    }
}
