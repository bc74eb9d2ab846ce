using System;
using System.Collections.Immutable;
using System.Composition;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Simplification;
using PrecisionPolicy.Analyzers;
using PrecisionPolicy.Analyzers.Rules;

namespace PrecisionPolicy.CodeFixes;

/// <summary>
/// PP0021: replaces a fill the tensor's dtype cannot hold with that dtype's own extreme:
/// <c>scores.masked_fill(mask, -1e9)</c> → <c>scores.masked_fill(mask, torch.finfo(scores.dtype).min)</c>
/// when the filled tensor is a name (a local, field or property, possibly qualified: repeating it evaluates
/// nothing twice); otherwise the fill becomes an infinity of the same sign, which every floating dtype holds.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UseFinfoLimitCodeFix)), Shared]
public sealed class UseFinfoLimitCodeFix : PrecisionCodeFix
{
    protected override string Title => "Use the dtype's own limit";

    public override ImmutableArray<string> FixableDiagnosticIds { get; } =
        ImmutableArray.Create(DiagnosticIds.FillOutOfRange);

    protected override Func<CancellationToken, Task<Document>>? CreateFix(Document document, SyntaxNode root, Diagnostic diagnostic)
    {
        var node = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
        if (node is ArgumentSyntax argument)
        {
            node = argument.Expression;
        }

        if (node is not ExpressionSyntax value ||
            !diagnostic.Properties.TryGetValue(FillOutOfRangeAnalyzer.LimitProperty, out var limit) || limit is not ("min" or "max") ||
            value.Parent is not ArgumentSyntax { Parent: ArgumentListSyntax { Parent: InvocationExpressionSyntax call } list })
        {
            return null;
        }

        var text = Tensor(call, list) is { } tensor
            ? $"global::TorchSharp.torch.finfo({tensor.WithoutTrivia()}.dtype).{limit}"
            : limit == "min" ? "double.NegativeInfinity" : "double.PositiveInfinity";
        var replacement = SyntaxFactory.ParseExpression(text)
            .WithAdditionalAnnotations(Simplifier.Annotation)
            .WithTriviaFrom(value);
        return ct => Replace(document, value, replacement, ct);
    }

    /// <summary>The filled tensor: the receiver of <c>t.masked_fill(...)</c>, the first argument of <c>full_like(t, v)</c>; only a name.</summary>
    private static ExpressionSyntax? Tensor(InvocationExpressionSyntax call, ArgumentListSyntax list)
    {
        var tensor = call.Expression is MemberAccessExpressionSyntax { Name.Identifier.ValueText: "full_like" }
            ? list.Arguments.Count > 0 ? list.Arguments[0].Expression : null
            : call.Expression is MemberAccessExpressionSyntax access ? access.Expression : null;
        return IsName(tensor) ? tensor : null;
    }

    private static bool IsName(ExpressionSyntax? expression) => expression switch
    {
        IdentifierNameSyntax or ThisExpressionSyntax => true,
        MemberAccessExpressionSyntax { Expression: var inner } => IsName(inner),
        _ => false,
    };

    private static async Task<Document> Replace(Document document, SyntaxNode node, SyntaxNode replacement, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        return root is null ? document : document.WithSyntaxRoot(root.ReplaceNode(node, replacement));
    }
}
