using System.Linq;
using Microsoft.CodeAnalysis.Simplification;
using static PrecisionPolicy.CodeFixes.Float32Syntax;

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
public sealed class UseFloat32CodeFix() : PrecisionCodeFix(
    "Keep it in float32",
    DiagnosticIds.OptimizerStateInLowPrecision,
    DiagnosticIds.GradientAccumulatorInLowPrecision,
    DiagnosticIds.NormStatisticsInLowPrecision,
    DiagnosticIds.StateUpdatedInLowPrecision)
{
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

        var node = DiagnosedNode(root, location.SourceSpan);
        if (diagnostic.Id == DiagnosticIds.StateUpdatedInLowPrecision &&
            node.AncestorsAndSelf().OfType<InvocationExpressionSyntax>().FirstOrDefault() is { Parent: ExpressionStatementSyntax })
        {
            return null;
        }

        var forceFloat32 = ForcesFloat32(diagnostic.Id);
        if (!forceFloat32 && IsLowPrecisionCast(node, out _, out _))
        {
            // norm.half(); -> (nothing). Only inside a block: an embedded statement (if (c) norm.half();) cannot just go,
            // it becomes norm.@float() (a receiver alone is not a statement).
            return node.Parent is ExpressionStatementSyntax { Parent: BlockSyntax } statement
                ? Rewrite(document, current => current.RemoveNode(statement, SyntaxRemoveOptions.KeepDirectives))
                : Fix(node, node.Parent is ExpressionStatementSyntax);
        }

        return Fix(node, forceFloat32);

        Func<CancellationToken, Task<Document>>? Fix(SyntaxNode target, bool toFloat32) =>
            Replacement(target, toFloat32) is { } replacement ? Replace(document, target, replacement) : null;
    }

    private static bool ForcesFloat32(string id) =>
        id is DiagnosticIds.OptimizerStateInLowPrecision or DiagnosticIds.GradientAccumulatorInLowPrecision or DiagnosticIds.StateUpdatedInLowPrecision;

    private static SyntaxNode? Replacement(SyntaxNode node, bool forceFloat32)
    {
        // x.half() / x.bfloat16() -> x.@float() for state, x elsewhere.
        if (IsLowPrecisionCast(node, out var cast, out var access))
        {
            return forceFloat32 ? AsFloatCast(cast, access) : access.Expression.WithTriviaFrom(node);
        }

        return node switch
        {
            // ScalarType.Float16 -> ScalarType.Float32, torch.float16 -> torch.float32; using static: Float16 -> Float32.
            ExpressionSyntax dtype when RenamedToFloat32(dtype) is { } renamed => renamed,

            // (ScalarType)24, a constant named Half: the full float32 name, shortened where the usings allow.
            CastExpressionSyntax or IdentifierNameSyntax or MemberAccessExpressionSyntax =>
                SyntaxFactory.ParseExpression(ScalarTypeFloat32).WithAdditionalAnnotations(Simplifier.Annotation).WithTriviaFrom(node),

            _ => null,
        };
    }
}
