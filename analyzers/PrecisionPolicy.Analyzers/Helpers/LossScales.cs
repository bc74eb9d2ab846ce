using System.Collections.Generic;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace PrecisionPolicy.Analyzers.Helpers;

/// <summary>
/// Recognises a loss scale and a scaled loss from data, never from a name: a value read from a
/// <c>LossScaler</c>, a constant of at least <see cref="SmallestLiteralScale"/>, or a variable,
/// field or helper result whose reaching values are one of those; a scaled loss is a tensor
/// multiplied by a scale in operator or method form (<c>loss * s</c>, <c>loss.mul(s)</c>).
/// </summary>
internal sealed class LossScales(DtypeFlow flow, CancellationToken cancellationToken)
{
    /// <summary>A constant multiplier this large is a loss scale, not a loss weight (PyTorch's GradScaler starts at 2^16).</summary>
    public const double SmallestLiteralScale = 128;

    private const int MaxDepth = 12;

    public bool IsScaledLoss(IOperation? value) => IsScaledLoss(value, 0, new HashSet<ISymbol>(SymbolEqualityComparer.Default));

    public bool IsScale(IOperation? value) => IsScale(value, 0, new HashSet<ISymbol>(SymbolEqualityComparer.Default));

    private bool IsScaledLoss(IOperation? value, int depth, HashSet<ISymbol> seen)
    {
        var operation = LowPrecision.Unwrap(value);
        if (operation is null || depth > MaxDepth)
        {
            return false;
        }

        var symbols = flow.Symbols;
        switch (operation)
        {
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.Multiply } product when symbols.IsTensor(product.Type):
                return IsScale(product.LeftOperand, depth + 1, seen) || IsScale(product.RightOperand, depth + 1, seen) ||
                    IsScaledLoss(product.LeftOperand, depth + 1, seen) || IsScaledLoss(product.RightOperand, depth + 1, seen);
            case IInvocationOperation { TargetMethod.Name: "mul" or "multiply", Arguments.Length: > 0 } mul when symbols.IsTensor(mul.Type):
                return IsScale(mul.Arguments[0].Value, depth + 1, seen) || IsScaledLoss(LowPrecision.Receiver(mul), depth + 1, seen);
            case IInvocationOperation { TargetMethod.Name: "mean" or "sum" or "to" or "contiguous" } reduction when symbols.IsTensor(reduction.Instance?.Type):
                return IsScaledLoss(reduction.Instance, depth + 1, seen);
        }

        return Operations.ReferencedSymbol(operation) is { } symbol && seen.Add(symbol) &&
            AnyValue(symbol, operation, v => IsScaledLoss(v, depth + 1, seen));
    }

    private bool IsScale(IOperation? value, int depth, HashSet<ISymbol> seen)
    {
        var operation = LowPrecision.Unwrap(value);
        if (operation is null || depth > MaxDepth)
        {
            return false;
        }

        var symbols = flow.Symbols;
        if (operation.ConstantValue is { HasValue: true, Value: double or float or int or long } constant)
        {
            return System.Convert.ToDouble(constant.Value, System.Globalization.CultureInfo.InvariantCulture) >= SmallestLiteralScale;
        }

        switch (operation)
        {
            case IPropertyReferenceOperation property when symbols.IsLossScaler(property.Property.ContainingType):
                return property.Property.Name == "Scale";
            case IPropertyReferenceOperation { Property.Name: "Scale" } state when state.Instance is IPropertyReferenceOperation { Property.Name: "State" } owner &&
                symbols.IsLossScaler(owner.Property.ContainingType):
                return true;
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.Multiply } product:
                return IsScale(product.LeftOperand, depth + 1, seen) || IsScale(product.RightOperand, depth + 1, seen);
            case IInvocationOperation { TargetMethod.Name: "tensor" or "scalar_tensor" or "full", Arguments.Length: > 0 } tensor when symbols.IsInTorch(tensor.TargetMethod.ContainingType):
                return IsScale(tensor.Arguments[tensor.TargetMethod.Name == "full" ? 1 : 0].Value, depth + 1, seen);
            case IInvocationOperation { TargetMethod.Name: "Pow", Arguments.Length: 2 } pow when pow.TargetMethod.ContainingType.SpecialType == SpecialType.None &&
                pow.TargetMethod.ContainingType.Name == "Math":
                return pow.Arguments[0].Value.ConstantValue is { HasValue: true, Value: 2 or 2.0 } &&
                    Operations.IsPositiveConstantAtMost(pow.Arguments[1].Value, double.MaxValue, out var exponent) && exponent >= 7;
            case IObjectCreationOperation { Arguments.Length: > 0 } scalar when scalar.Type?.Name == "Scalar":
                return IsScale(scalar.Arguments[0].Value, depth + 1, seen);
        }

        return Operations.ReferencedSymbol(operation) is { } symbol && seen.Add(symbol) &&
            AnyValue(symbol, operation, v => IsScale(v, depth + 1, seen));
    }

    private bool AnyValue(ISymbol symbol, IOperation use, System.Func<IOperation, bool> predicate)
    {
        foreach (var value in flow.ValuesOf(symbol, use, cancellationToken))
        {
            if (predicate(value))
            {
                return true;
            }
        }

        return false;
    }
}
