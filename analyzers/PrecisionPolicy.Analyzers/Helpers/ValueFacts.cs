using System.Globalization;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace PrecisionPolicy.Analyzers.Helpers;

/// <summary>
/// Facts about the values a tensor or scalar holds, next to the dtype facts of <see cref="DtypeFlow"/>:
/// constants (with <c>torch.finfo(float32).max</c> and its kin), and the largest magnitude of a tensor
/// of evenly spaced values (<c>arange</c>, <c>linspace</c>) followed through shape-only ops, locals and fields.
/// </summary>
internal static class ValueFacts
{
    private const int MaxDepth = 12;

    /// <summary>A compile-time number, or <c>torch.finfo(float32 or float64).max/min/eps/tiny</c>, negated or not.</summary>
    public static bool TryConstant(IOperation? operation, TorchSymbols symbols, out double value)
    {
        value = 0;
        var unwrapped = LowPrecision.Unwrap(operation);
        if (unwrapped is null)
        {
            return false;
        }

        if (unwrapped.ConstantValue is { HasValue: true, Value: { } raw } && raw is not (bool or string or char))
        {
            try
            {
                value = System.Convert.ToDouble(raw, CultureInfo.InvariantCulture);
                return true;
            }
            catch (System.InvalidCastException)
            {
                return false;
            }
        }

        if (unwrapped is IUnaryOperation { OperatorKind: UnaryOperatorKind.Minus } minus && TryConstant(minus.Operand, symbols, out var operand))
        {
            value = -operand;
            return true;
        }

        // torch.finfo(torch.float32).max: the field of an finfo made from a float32/float64 dtype.
        if (unwrapped is IFieldReferenceOperation or IPropertyReferenceOperation &&
            Operations.ReferencedSymbol(unwrapped) is { Name: "max" or "min" } member &&
            Instance(unwrapped) is IInvocationOperation { TargetMethod.Name: "finfo", Arguments.Length: 1 } finfo &&
            symbols.IsInTorch(finfo.TargetMethod.ContainingType) &&
            Float32Width(finfo.Arguments[0].Value, symbols) is { } max)
        {
            value = member.Name == "max" ? max : -max;
            return true;
        }

        return false;
    }

    /// <summary>
    /// The largest magnitude of an <c>arange</c>/<c>linspace</c> tensor (positive infinity when its
    /// bound is not a constant), through shape-only ops, indexing, locals and fields; null for any other value.
    /// </summary>
    public static double? EvenlySpacedBound(IOperation? operation, DtypeFlow flow, CancellationToken cancellationToken) =>
        Bound(operation, flow, cancellationToken, 0);

    private static double? Bound(IOperation? operation, DtypeFlow flow, CancellationToken cancellationToken, int depth)
    {
        var value = LowPrecision.Unwrap(operation);
        if (value is null || depth > MaxDepth)
        {
            return null;
        }

        cancellationToken.ThrowIfCancellationRequested();
        var symbols = flow.Symbols;
        switch (value)
        {
            case IInvocationOperation { TargetMethod.Name: "arange" or "linspace" } creation when symbols.IsInTorch(creation.TargetMethod.ContainingType):
                return CreationBound(creation, symbols);
            case IInvocationOperation call when symbols.IsTensor(call.TargetMethod.ContainingType) && IsShapeOnly(call, symbols):
                return Bound(LowPrecision.Receiver(call), flow, cancellationToken, depth + 1);
            case IPropertyReferenceOperation { Arguments.Length: > 0 } indexer when symbols.IsTensor(indexer.Instance?.Type):
                return Bound(indexer.Instance, flow, cancellationToken, depth + 1);
            case ILocalReferenceOperation or IFieldReferenceOperation or IPropertyReferenceOperation { Arguments.Length: 0 }
                when Operations.ReferencedSymbol(value) is { } symbol && symbols.IsTensor(value.Type) &&
                    symbol.DeclaringSyntaxReferences.Length > 0:
                double? bound = null;
                foreach (var write in flow.ValuesOf(symbol, value, cancellationToken))
                {
                    if (Bound(write, flow, cancellationToken, depth + 1) is not { } written)
                    {
                        return null;
                    }

                    bound = bound is { } b ? System.Math.Max(b, written) : written;
                }

                return bound;
            default:
                return null;
        }
    }

    /// <summary><c>arange(end)</c>, <c>arange(start, end, ...)</c>, <c>linspace(start, end, steps)</c>: the larger bound's magnitude.</summary>
    private static double? CreationBound(IInvocationOperation creation, TorchSymbols symbols)
    {
        var bound = 0.0;
        var counted = 0;
        foreach (var argument in creation.Arguments)
        {
            if (argument.ArgumentKind != ArgumentKind.Explicit || argument.Parameter?.Name is not ("start" or "end" or "stop"))
            {
                continue;
            }

            counted++;
            if (!TryConstant(argument.Value, symbols, out var end))
            {
                return double.PositiveInfinity;
            }

            bound = System.Math.Max(bound, System.Math.Abs(end));
        }

        return counted == 0 ? null : bound;
    }

    /// <summary>Tensor methods that move or copy values without changing them (a dtype cast excepted).</summary>
    private static bool IsShapeOnly(IInvocationOperation call, TorchSymbols symbols) =>
        call.TargetMethod.Name is "unsqueeze" or "expand" or "view" or "reshape" or "repeat" or "flatten" or "transpose" or "narrow"
            or "clone" or "detach" or "squeeze" or "contiguous" or "permute" or "select" or "index_select" or "t" or "cpu" or "cuda"
        || call.TargetMethod.Name == "to" && !LowPrecision.IsDtypeCast(call, symbols, out _);

    private static IOperation? Instance(IOperation member) => member switch
    {
        IFieldReferenceOperation field => LowPrecision.Unwrap(field.Instance),
        IPropertyReferenceOperation property => LowPrecision.Unwrap(property.Instance),
        _ => null,
    };

    private static double? Float32Width(IOperation dtype, TorchSymbols symbols)
    {
        for (var operation = dtype; operation is not null; operation = operation is IConversionOperation c ? c.Operand : operation is IArgumentOperation a ? a.Value : null)
        {
            if (operation.ConstantValue is { HasValue: true, Value: { } constant } && symbols.ScalarType is not null &&
                SymbolEqualityComparer.Default.Equals(operation.Type, symbols.ScalarType))
            {
                return System.Convert.ToInt64(constant, CultureInfo.InvariantCulture) switch
                {
                    6 => float.MaxValue,
                    7 => double.MaxValue,
                    _ => null,
                };
            }

            if (operation is IFieldReferenceOperation { Field: { IsStatic: true } field } && SymbolEqualityComparer.Default.Equals(field.ContainingType, symbols.Torch))
            {
                return field.Name switch
                {
                    "float32" or "float" => float.MaxValue,
                    "float64" or "double" => double.MaxValue,
                    _ => null,
                };
            }
        }

        return null;
    }
}
