using System.Diagnostics.CodeAnalysis;

namespace PrecisionPolicy.CodeFixes;

/// <summary>
/// The float32 spellings the fixes write: a 16-bit dtype renamed to its float32 twin, <c>x.half()</c> as
/// <c>x.@float()</c>, the full name of the float32 dtype.
/// </summary>
internal static class Float32Syntax
{
    /// <summary>The float32 dtype by its full name, for a dtype with no float32 twin to rename to.</summary>
    public const string ScalarTypeFloat32 = "global::TorchSharp.torch.ScalarType.Float32";

    /// <summary>The name of TorchSharp's <c>Tensor.@float()</c> (<c>float</c> is a keyword).</summary>
    public static IdentifierNameSyntax FloatMethodName() => SyntaxFactory.IdentifierName(SyntaxFactory.ParseToken("@float"));

    /// <summary><c>x.half()</c> or <c>x.bfloat16()</c>: a 16-bit cast call, and its member access.</summary>
    public static bool IsLowPrecisionCast(
        SyntaxNode node, [NotNullWhen(true)] out InvocationExpressionSyntax? cast, [NotNullWhen(true)] out MemberAccessExpressionSyntax? access)
    {
        if (node is InvocationExpressionSyntax
            {
                Expression: MemberAccessExpressionSyntax { Name.Identifier.ValueText: "half" or "bfloat16" } member,
                ArgumentList.Arguments.Count: 0,
            } call)
        {
            (cast, access) = (call, member);
            return true;
        }

        (cast, access) = (null, null);
        return false;
    }

    /// <summary><c>x.half()</c> → <c>x.@float()</c>.</summary>
    public static InvocationExpressionSyntax AsFloatCast(InvocationExpressionSyntax cast, MemberAccessExpressionSyntax access) =>
        cast.WithExpression(access.WithName(FloatMethodName().WithTriviaFrom(access.Name)));

    /// <summary>
    /// <c>ScalarType.Float16</c> → <c>ScalarType.Float32</c>, <c>torch.bfloat16</c> → <c>torch.float32</c>,
    /// <c>Float16</c> (using static) → <c>Float32</c>; null when the expression is no 16-bit dtype's name.
    /// </summary>
    public static ExpressionSyntax? RenamedToFloat32(ExpressionSyntax dtype) => dtype switch
    {
        MemberAccessExpressionSyntax { Name: IdentifierNameSyntax name } access when Float32Name(name.Identifier.ValueText) is { } float32 =>
            access.WithName(SyntaxFactory.IdentifierName(float32).WithTriviaFrom(name)),
        IdentifierNameSyntax name when Float32Name(name.Identifier.ValueText) is { } float32 =>
            SyntaxFactory.IdentifierName(float32).WithTriviaFrom(name),
        _ => null,
    };

    private static string? Float32Name(string lowPrecisionName) => lowPrecisionName switch
    {
        "Float16" or "BFloat16" => "Float32",
        "float16" or "half" or "bfloat16" => "float32",
        _ => null,
    };
}
