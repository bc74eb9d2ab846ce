using System.Collections.Immutable;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace PrecisionPolicy.Analyzers.Helpers;

/// <summary>
/// What a tensor is used for, read from how the code updates it rather than from its name:
/// a gradient accumulator (<c>acc.add_(p.grad)</c>, <c>acc += g</c>, <c>acc = acc + g</c>) or a
/// moving average of gradients, i.e. optimizer state (<c>m.mul_(b1).add_(g, alpha: 1 - b1)</c>,
/// <c>v.mul_(b2).addcmul_(g, g, value: 1 - b2)</c>, <c>m.lerp_(g, w)</c>, <c>m = b * m + (1 - b) * g</c>).
/// A gradient is <c>p.grad</c> or a local whose reaching value reads one.
/// </summary>
internal static class TensorRoles
{
    /// <summary>The tensor expression gradients are summed into, or null.</summary>
    public static IOperation? AccumulatedInto(IOperation operation, DtypeFlow flow, CancellationToken cancellationToken)
    {
        var symbols = flow.Symbols;
        switch (operation)
        {
            case IInvocationOperation { TargetMethod.Name: "add_", Arguments.Length: > 0 } add
                when symbols.IsTensor(add.Instance?.Type) && add.Instance is not IInvocationOperation { TargetMethod.Name: "mul_" } &&
                    ReadsGradient(add.Arguments[0].Value, flow, cancellationToken):
                return add.Instance;
            case ICompoundAssignmentOperation { OperatorKind: BinaryOperatorKind.Add } compound
                when symbols.IsTensor(compound.Target.Type) && ReadsGradient(compound.Value, flow, cancellationToken):
                return compound.Target;
            case ISimpleAssignmentOperation { Value: IBinaryOperation { OperatorKind: BinaryOperatorKind.Add } sum } assignment
                when symbols.IsTensor(assignment.Target.Type) && Operations.ReferencedSymbol(assignment.Target) is { } target:
                var left = Operations.ReferencedSymbol(sum.LeftOperand);
                var right = Operations.ReferencedSymbol(sum.RightOperand);
                return (SymbolEqualityComparer.Default.Equals(left, target) && ReadsGradient(sum.RightOperand, flow, cancellationToken)) ||
                    (SymbolEqualityComparer.Default.Equals(right, target) && ReadsGradient(sum.LeftOperand, flow, cancellationToken))
                    ? assignment.Target
                    : null;
            default:
                return null;
        }
    }

    /// <summary>The tensor expression that keeps a moving average of gradients (optimizer state), or null.</summary>
    public static IOperation? MovingAverageOf(IOperation operation, DtypeFlow flow, CancellationToken cancellationToken)
    {
        var symbols = flow.Symbols;
        switch (operation)
        {
            // m.mul_(b).add_(g, ...), v.mul_(b).addcmul_(g, g, ...)
            case IInvocationOperation { TargetMethod.Name: "add_" or "addcmul_" or "addcdiv_", Instance: IInvocationOperation { TargetMethod.Name: "mul_" } decay } update
                when symbols.IsTensor(decay.Instance?.Type) && AnyReadsGradient(update.Arguments, flow, cancellationToken):
                return decay.Instance;
            case IInvocationOperation { TargetMethod.Name: "lerp_", Arguments.Length: > 0 } lerp
                when symbols.IsTensor(lerp.Instance?.Type) && ReadsGradient(lerp.Arguments[0].Value, flow, cancellationToken):
                return lerp.Instance;

            // m = b * m + (1 - b) * g
            case ISimpleAssignmentOperation { Value: IBinaryOperation { OperatorKind: BinaryOperatorKind.Add } sum } assignment
                when symbols.IsTensor(assignment.Target.Type) && Operations.ReferencedSymbol(assignment.Target) is { } target &&
                    (IsDecayed(sum.LeftOperand, target) && ReadsGradient(sum.RightOperand, flow, cancellationToken) ||
                     IsDecayed(sum.RightOperand, target) && ReadsGradient(sum.LeftOperand, flow, cancellationToken)):
                return assignment.Target;
            default:
                return null;
        }
    }

    // A loop, not Any with a lambda: asked of every invocation, and the lambda's closure would be allocated on each.
    private static bool AnyReadsGradient(ImmutableArray<IArgumentOperation> arguments, DtypeFlow flow, CancellationToken cancellationToken)
    {
        foreach (var argument in arguments)
        {
            if (ReadsGradient(argument.Value, flow, cancellationToken))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True if the value reads a gradient: <c>p.grad</c>, or a local assigned one.</summary>
    public static bool ReadsGradient(IOperation value, DtypeFlow flow, CancellationToken cancellationToken) =>
        ReadsGradient(value, flow, cancellationToken, depth: 0);

    private static bool ReadsGradient(IOperation value, DtypeFlow flow, CancellationToken cancellationToken, int depth)
    {
        foreach (var operation in value.DescendantsAndSelf())
        {
            if (operation is IPropertyReferenceOperation { Property.Name: "grad" } grad && flow.Symbols.IsTensor(grad.Property.ContainingType))
            {
                return true;
            }

            if (depth < 3 && operation is ILocalReferenceOperation local && flow.Symbols.IsTensor(local.Type))
            {
                // A loop, not Any with a lambda: its closure would be allocated on every call of this method.
                foreach (var written in flow.ValuesOf(local.Local, local, cancellationToken))
                {
                    if (ReadsGradient(written, flow, cancellationToken, depth + 1))
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }

    private static bool IsDecayed(IOperation operand, ISymbol target) =>
        LowPrecision.Unwrap(operand) is IBinaryOperation { OperatorKind: BinaryOperatorKind.Multiply } product &&
        (SymbolEqualityComparer.Default.Equals(Operations.ReferencedSymbol(product.LeftOperand), target) ||
         SymbolEqualityComparer.Default.Equals(Operations.ReferencedSymbol(product.RightOperand), target));
}
