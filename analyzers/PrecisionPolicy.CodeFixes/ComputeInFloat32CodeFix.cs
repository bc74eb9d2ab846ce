using PrecisionPolicy.Analyzers.Rules;
using static PrecisionPolicy.CodeFixes.Float32Syntax;

namespace PrecisionPolicy.CodeFixes;

/// <summary>
/// PP0008: computes the sensitive op in float32 and hands its result back in the dtype the code
/// asked for, so whatever consumes the result (a 16-bit matmul on the next line) sees the dtype it
/// saw before: <c>scores.half().softmax(-1)</c> → <c>scores.@float().softmax(-1).half()</c>,
/// <c>softmax(x, -1, dtype: ScalarType.Float16)</c> → <c>softmax(x, -1, dtype: ScalarType.Float32).to(ScalarType.Float16)</c>.
/// A loss's result cast is removed (the loss is meant to be float32), and so is the cast of a loss's
/// input (<c>mse_loss(x.half(), y)</c> → <c>mse_loss(x, y)</c>): every form the rule reports has a fix,
/// so Fix All (<c>dotnet format</c> asks the first diagnostic for its action) never skips the rule.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ComputeInFloat32CodeFix)), Shared]
public sealed class ComputeInFloat32CodeFix() : PrecisionCodeFix("Compute it in float32", DiagnosticIds.SensitiveOpInLowPrecision)
{
    protected override Func<CancellationToken, Task<Document>>? CreateFix(Document document, SyntaxNode root, Diagnostic diagnostic)
    {
        if (DiagnosedNode(root, diagnostic.Location.SourceSpan) is not ExpressionSyntax site ||
            !diagnostic.Properties.TryGetValue(SensitiveOpInLowPrecisionAnalyzer.FormProperty, out var form))
        {
            return null;
        }

        var isLoss = diagnostic.Properties.ContainsKey(SensitiveOpInLowPrecisionAnalyzer.IsLossProperty);
        var edit = form switch
        {
            SensitiveOpInLowPrecisionAnalyzer.FormDtypeArgument => FixDtypeArgument(site),
            SensitiveOpInLowPrecisionAnalyzer.FormInputCast when !isLoss => FixInputCast(site),
            SensitiveOpInLowPrecisionAnalyzer.FormInputCast or SensitiveOpInLowPrecisionAnalyzer.FormResultCast => RemoveCast(site),
            _ => null,
        };
        return edit is var (original, replacement) ? Replace(document, original, replacement) : null;
    }

    /// <summary><c>op(x, dtype: Float16)</c> → <c>op(x, dtype: Float32).to(Float16)</c>.</summary>
    private static (SyntaxNode, SyntaxNode)? FixDtypeArgument(ExpressionSyntax dtype)
    {
        if (CallWithArgument(dtype) is not { } op)
        {
            return null;
        }

        var computed = op.ReplaceNode(dtype, Float32Dtype(dtype));
        return (op, CastBack(computed.WithoutTrivia(), "to", dtype).WithTriviaFrom(op));
    }

    /// <summary><c>x.half().op()</c> / <c>op(x.half())</c> → <c>x.@float().op().half()</c> / <c>op(x.@float()).half()</c>.</summary>
    private static (SyntaxNode, SyntaxNode)? FixInputCast(ExpressionSyntax site)
    {
        // The site is the cast call (x.half()) or the dtype argument of x.to(dtype).
        InvocationExpressionSyntax cast;
        ExpressionSyntax float32Cast;
        string castBackMethod;
        ExpressionSyntax? castBackArgument = null;
        if (IsLowPrecisionCast(site, out var call, out var access))
        {
            cast = call;
            castBackMethod = access.Name.Identifier.ValueText;
            float32Cast = AsFloatCast(call, access);
        }
        else if (CallWithArgument(site) is { } dtypeCall)
        {
            cast = dtypeCall;
            castBackMethod = "to";
            castBackArgument = site;
            float32Cast = dtypeCall.ReplaceNode(site, Float32Dtype(site));
        }
        else
        {
            return null;
        }

        var op = cast.Parent switch
        {
            MemberAccessExpressionSyntax { Parent: InvocationExpressionSyntax receiverOp } receiver when receiver.Expression == cast => receiverOp,
            ArgumentSyntax { Parent: ArgumentListSyntax { Parent: InvocationExpressionSyntax argumentOp } } => argumentOp,
            _ => null,
        };
        if (op is null)
        {
            return null;
        }

        var computed = op.ReplaceNode(cast, float32Cast);
        return (op, CastBack(computed.WithoutTrivia(), castBackMethod, castBackArgument).WithTriviaFrom(op));
    }

    /// <summary>
    /// A loss's input or result cast goes: <c>mse_loss(x.half(), y)</c> → <c>mse_loss(x, y)</c>,
    /// <c>cross_entropy(x, y).half()</c> → <c>cross_entropy(x, y)</c>; the site is the cast call or the dtype argument of <c>x.to(dtype)</c>.
    /// </summary>
    private static (SyntaxNode, SyntaxNode)? RemoveCast(ExpressionSyntax site)
    {
        var cast = site as InvocationExpressionSyntax ?? CallWithArgument(site);
        return cast?.Expression is MemberAccessExpressionSyntax { Expression: var uncast }
            ? (cast, uncast.WithTriviaFrom(cast))
            : null;
    }

    private static InvocationExpressionSyntax CastBack(ExpressionSyntax computed, string method, ExpressionSyntax? dtype) =>
        SyntaxFactory.InvocationExpression(
            SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, computed, SyntaxFactory.IdentifierName(method)),
            dtype is null
                ? SyntaxFactory.ArgumentList()
                : SyntaxFactory.ArgumentList(SyntaxFactory.SingletonSeparatedList(SyntaxFactory.Argument(dtype.WithoutTrivia()))));

    /// <summary>The float32 spelling of a dtype expression: the same member with its float32 name, or the full name.</summary>
    private static ExpressionSyntax Float32Dtype(ExpressionSyntax dtype) =>
        RenamedToFloat32(dtype) ?? SyntaxFactory.ParseExpression(ScalarTypeFloat32).WithTriviaFrom(dtype);
}
