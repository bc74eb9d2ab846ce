using System;
using System.Collections.Immutable;
using System.Composition;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using PrecisionPolicy.Analyzers;
using PrecisionPolicy.Analyzers.Rules;

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
public sealed class ComputeInFloat32CodeFix : PrecisionCodeFix
{
    protected override string Title => "Compute it in float32";

    public override ImmutableArray<string> FixableDiagnosticIds { get; } =
        ImmutableArray.Create(DiagnosticIds.SensitiveOpInLowPrecision);

    protected override Func<CancellationToken, Task<Document>>? CreateFix(Document document, SyntaxNode root, Diagnostic diagnostic)
    {
        var node = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
        if (node is ArgumentSyntax argument)
        {
            node = argument.Expression;
        }

        if (node is not ExpressionSyntax site ||
            !diagnostic.Properties.TryGetValue(SensitiveOpInLowPrecisionAnalyzer.FormProperty, out var form))
        {
            return null;
        }

        var isLoss = diagnostic.Properties.ContainsKey(SensitiveOpInLowPrecisionAnalyzer.IsLossProperty);
        var edit = form switch
        {
            SensitiveOpInLowPrecisionAnalyzer.FormDtypeArgument => FixDtypeArgument(site),
            SensitiveOpInLowPrecisionAnalyzer.FormInputCast when !isLoss => FixInputCast(site),
            SensitiveOpInLowPrecisionAnalyzer.FormInputCast => RemoveInputCast(site),
            SensitiveOpInLowPrecisionAnalyzer.FormResultCast => FixResultCast(site),
            _ => null,
        };
        return edit is var (original, replacement)
            ? ct => Replace(document, original, replacement, ct)
            : null;
    }

    /// <summary><c>op(x, dtype: Float16)</c> → <c>op(x, dtype: Float32).to(Float16)</c>.</summary>
    private static (SyntaxNode, SyntaxNode)? FixDtypeArgument(ExpressionSyntax dtype)
    {
        if (dtype.Parent is not ArgumentSyntax { Parent: ArgumentListSyntax { Parent: InvocationExpressionSyntax op } } ||
            Float32Dtype(dtype) is not { } float32)
        {
            return null;
        }

        var computed = op.ReplaceNode(dtype, float32);
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
        switch (site)
        {
            case InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax { Name.Identifier.ValueText: "half" or "bfloat16" } access, ArgumentList.Arguments.Count: 0 } call:
                cast = call;
                castBackMethod = access.Name.Identifier.ValueText;
                float32Cast = call.WithExpression(access.WithName(SyntaxFactory.IdentifierName(SyntaxFactory.ParseToken("@float")).WithTriviaFrom(access.Name)));
                break;
            case ExpressionSyntax dtype when dtype.Parent is ArgumentSyntax { Parent: ArgumentListSyntax { Parent: InvocationExpressionSyntax call } } &&
                Float32Dtype(dtype) is { } float32:
                cast = call;
                castBackMethod = "to";
                castBackArgument = dtype;
                float32Cast = call.ReplaceNode(dtype, float32);
                break;
            default:
                return null;
        }

        var op = cast.Parent switch
        {
            MemberAccessExpressionSyntax { Parent: InvocationExpressionSyntax receiverOp } access when access.Expression == cast => receiverOp,
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

    /// <summary><c>mse_loss(x.half(), y)</c> → <c>mse_loss(x, y)</c>; the site is the cast call or the dtype argument of <c>x.to(dtype)</c>.</summary>
    private static (SyntaxNode, SyntaxNode)? RemoveInputCast(ExpressionSyntax site)
    {
        var cast = site is InvocationExpressionSyntax call
            ? call
            : site.Parent is ArgumentSyntax { Parent: ArgumentListSyntax { Parent: InvocationExpressionSyntax dtypeCall } } ? dtypeCall : null;
        return cast?.Expression is MemberAccessExpressionSyntax { Expression: var input }
            ? (cast, input.WithTriviaFrom(cast))
            : null;
    }

    /// <summary><c>cross_entropy(x, y).half()</c> → <c>cross_entropy(x, y)</c>.</summary>
    private static (SyntaxNode, SyntaxNode)? FixResultCast(ExpressionSyntax site)
    {
        var cast = site is InvocationExpressionSyntax call
            ? call
            : site.Parent is ArgumentSyntax { Parent: ArgumentListSyntax { Parent: InvocationExpressionSyntax dtypeCall } } ? dtypeCall : null;
        return cast?.Expression is MemberAccessExpressionSyntax { Expression: var loss }
            ? (cast, loss.WithTriviaFrom(cast))
            : null;
    }

    private static InvocationExpressionSyntax CastBack(ExpressionSyntax computed, string method, ExpressionSyntax? dtype) =>
        SyntaxFactory.InvocationExpression(
            SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, computed, SyntaxFactory.IdentifierName(method)),
            dtype is null
                ? SyntaxFactory.ArgumentList()
                : SyntaxFactory.ArgumentList(SyntaxFactory.SingletonSeparatedList(SyntaxFactory.Argument(dtype.WithoutTrivia()))));

    /// <summary>The float32 spelling of a dtype expression: the same member with its float32 name, or the full name.</summary>
    private static ExpressionSyntax? Float32Dtype(ExpressionSyntax dtype) => dtype switch
    {
        MemberAccessExpressionSyntax { Name: IdentifierNameSyntax name } access when Float32Name(name.Identifier.ValueText) is { } float32 =>
            access.WithName(SyntaxFactory.IdentifierName(float32).WithTriviaFrom(name)),
        IdentifierNameSyntax name when Float32Name(name.Identifier.ValueText) is { } float32 =>
            SyntaxFactory.IdentifierName(float32).WithTriviaFrom(name),
        _ => SyntaxFactory.ParseExpression("global::TorchSharp.torch.ScalarType.Float32").WithTriviaFrom(dtype),
    };

    private static string? Float32Name(string lowPrecisionName) => lowPrecisionName switch
    {
        "Float16" or "BFloat16" => "Float32",
        "float16" or "half" or "bfloat16" => "float32",
        _ => null,
    };

    private static async Task<Document> Replace(Document document, SyntaxNode node, SyntaxNode replacement, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        return root is null ? document : document.WithSyntaxRoot(root.ReplaceNode(node, replacement));
    }
}
