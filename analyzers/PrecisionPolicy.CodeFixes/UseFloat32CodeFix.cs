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
using PrecisionPolicy.Analyzers;

namespace PrecisionPolicy.CodeFixes;

/// <summary>
/// For PP0001, PP0002, PP0007 and PP0023 (whose second location is where the state was made 16-bit),
/// whose diagnostics sit on a low-precision dtype
/// (<c>ScalarType.Float16</c> → <c>ScalarType.Float32</c>, <c>torch.bfloat16</c> → <c>torch.float32</c>)
/// or on a cast call. Optimizer state and accumulators must be float32 whatever their source is,
/// so there <c>x.half()</c> becomes <c>x.@float()</c>; a norm layer just loses the cast
/// (<c>x.half()</c> → <c>x</c>) and the precision policy decides. A cast written as a statement
/// (<c>norm.half();</c>, an in-place module cast) is removed with its statement: the receiver
/// alone would not be a statement. PP0008 has its own fix (<see cref="ComputeInFloat32CodeFix"/>),
/// which keeps the op's result dtype.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UseFloat32CodeFix)), Shared]
public sealed class UseFloat32CodeFix : PrecisionCodeFix
{
    protected override string Title => "Keep it in float32";

    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(
        DiagnosticIds.OptimizerStateInLowPrecision,
        DiagnosticIds.GradientAccumulatorInLowPrecision,
        DiagnosticIds.NormStatisticsInLowPrecision,
        DiagnosticIds.StateUpdatedInLowPrecision);

    protected override Func<CancellationToken, Task<Document>>? CreateFix(Document document, SyntaxNode root, Diagnostic diagnostic)
    {
        var location = diagnostic.Location;
        if (diagnostic.Id == DiagnosticIds.StateUpdatedInLowPrecision)
        {
            // The state's own cast or dtype, when it is in this document; an in-place cast of the whole model is PP0016's.
            if (diagnostic.AdditionalLocations.Count == 0 || diagnostic.AdditionalLocations[0].SourceTree != root.SyntaxTree)
            {
                return null;
            }

            location = diagnostic.AdditionalLocations[0];
        }

        var node = root.FindNode(location.SourceSpan, getInnermostNodeForTie: true);
        if (node is ArgumentSyntax argument)
        {
            node = argument.Expression;
        }

        if (diagnostic.Id == DiagnosticIds.StateUpdatedInLowPrecision &&
            node.AncestorsAndSelf().OfType<InvocationExpressionSyntax>().FirstOrDefault() is { Parent: ExpressionStatementSyntax })
        {
            return null;
        }

        var forceFloat32 = ForcesFloat32(diagnostic.Id);
        if (!forceFloat32 && IsCastCall(node))
        {
            // norm.half(); -> (nothing). Only inside a block: an embedded statement (if (c) norm.half();) cannot just go,
            // it becomes norm.@float() (a receiver alone is not a statement).
            return node.Parent is ExpressionStatementSyntax { Parent: BlockSyntax } statement
                ? ct => Remove(document, statement, ct)
                : Replace(node, node.Parent is ExpressionStatementSyntax);
        }

        return Replace(node, forceFloat32);

        Func<CancellationToken, Task<Document>>? Replace(SyntaxNode target, bool toFloat32) =>
            Replacement(target, toFloat32) is { } replacement
                ? ct => ReplaceNode(document, target, replacement, ct)
                : null;
    }

    private static bool IsCastCall(SyntaxNode node) =>
        node is InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax { Name.Identifier.ValueText: "half" or "bfloat16" }, ArgumentList.Arguments.Count: 0 };

    private static bool ForcesFloat32(string id) =>
        id is DiagnosticIds.OptimizerStateInLowPrecision or DiagnosticIds.GradientAccumulatorInLowPrecision or DiagnosticIds.StateUpdatedInLowPrecision;

    private static SyntaxNode? Replacement(SyntaxNode node, bool forceFloat32)
    {
        switch (node)
        {
            // x.half() / x.bfloat16() -> x.@float() for state, x elsewhere.
            case InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax { Name.Identifier.ValueText: "half" or "bfloat16" } access, ArgumentList.Arguments.Count: 0 } cast:
                return forceFloat32
                    ? cast.WithExpression(access.WithName(SyntaxFactory.IdentifierName(
                        SyntaxFactory.ParseToken("@float")).WithTriviaFrom(access.Name)))
                    : access.Expression.WithTriviaFrom(node);

            // ScalarType.Float16 -> ScalarType.Float32, torch.float16 -> torch.float32.
            case MemberAccessExpressionSyntax { Name: IdentifierNameSyntax name } access when Float32Name(name.Identifier.ValueText) is { } float32:
                return access.WithName(SyntaxFactory.IdentifierName(float32).WithTriviaFrom(name));

            // using static: Float16 -> Float32.
            case IdentifierNameSyntax name when Float32Name(name.Identifier.ValueText) is { } float32:
                return SyntaxFactory.IdentifierName(float32).WithTriviaFrom(name);

            // (ScalarType)24, a constant named Half: the full float32 name, shortened where the usings allow.
            case CastExpressionSyntax or IdentifierNameSyntax or MemberAccessExpressionSyntax:
                return SyntaxFactory.ParseExpression("global::TorchSharp.torch.ScalarType.Float32")
                    .WithAdditionalAnnotations(Microsoft.CodeAnalysis.Simplification.Simplifier.Annotation)
                    .WithTriviaFrom(node);

            default:
                return null;
        }
    }

    private static string? Float32Name(string lowPrecisionName) => lowPrecisionName switch
    {
        "Float16" or "BFloat16" => "Float32",
        "float16" or "half" or "bfloat16" => "float32",
        _ => null,
    };

    private static async Task<Document> ReplaceNode(Document document, SyntaxNode node, SyntaxNode replacement, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        return root is null ? document : document.WithSyntaxRoot(root.ReplaceNode(node, replacement));
    }

    private static async Task<Document> Remove(Document document, StatementSyntax statement, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        return root?.RemoveNode(statement, SyntaxRemoveOptions.KeepDirectives) is { } edited
            ? document.WithSyntaxRoot(edited)
            : document;
    }
}
