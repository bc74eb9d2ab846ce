using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Catalog;

namespace PrecisionPolicy.Analyzers.Helpers;

/// <summary>A floating-point storage type narrower than float32.</summary>
internal enum LowPrecisionKind
{
    None,
    Float16,
    BFloat16,
    Float8,
}

/// <summary>
/// Where a value is put into low precision: a dtype argument (<c>ScalarType.Float16</c>,
/// <c>torch.bfloat16</c>) or a cast call (<c>.half()</c>, <c>.bfloat16()</c>).
/// The code fixes turn the first into float32 and remove or replace the second.
/// </summary>
internal readonly struct LowPrecisionSite
{
    public LowPrecisionSite(IOperation operation, LowPrecisionKind kind)
    {
        Operation = operation;
        Kind = kind;
    }

    public IOperation Operation { get; }

    public LowPrecisionKind Kind { get; }

    public Location Location => Operation.Syntax.GetLocation();

    public string DtypeName => LowPrecision.Describe(Kind);
}

/// <summary>Recognizes low-precision dtypes and casts in TorchSharp code.</summary>
internal static class LowPrecision
{
    public static string Describe(LowPrecisionKind kind) => kind switch
    {
        LowPrecisionKind.Float16 => "float16",
        LowPrecisionKind.BFloat16 => "bfloat16",
        LowPrecisionKind.Float8 => "float8",
        _ => "float32",
    };

    /// <summary>Strips implicit conversions and argument wrappers.</summary>
    public static IOperation? Unwrap(IOperation? operation)
    {
        while (true)
        {
            switch (operation)
            {
                case IArgumentOperation argument:
                    operation = argument.Value;
                    break;
                case IConversionOperation conversion:
                    operation = conversion.Operand;
                    break;
                default:
                    return operation;
            }
        }
    }

    /// <summary>The low precision a dtype-valued expression names, or None.</summary>
    public static LowPrecisionKind OfDtype(IOperation? value, TorchSymbols symbols)
    {
        // Look at every conversion level: float8 has no named ScalarType member in TorchSharp
        // 0.107 and is written (ScalarType)24, a constant only before the cast is stripped.
        for (var operation = value; operation is not null; operation = Next(operation))
        {
            if (symbols.ScalarType is not null &&
                SymbolEqualityComparer.Default.Equals(operation.Type, symbols.ScalarType) &&
                operation.ConstantValue is { HasValue: true, Value: { } constant })
            {
                return System.Convert.ToInt64(constant, System.Globalization.CultureInfo.InvariantCulture) switch
                {
                    Dtypes.Float16 => LowPrecisionKind.Float16,
                    Dtypes.BFloat16 => LowPrecisionKind.BFloat16,
                    Dtypes.Float8E5M2 or Dtypes.Float8E4M3 => LowPrecisionKind.Float8,
                    _ => LowPrecisionKind.None,
                };
            }

            if (operation is IFieldReferenceOperation { Field: { IsStatic: true } field } &&
                SymbolEqualityComparer.Default.Equals(field.ContainingType, symbols.Torch))
            {
                return field.Name switch
                {
                    "float16" or "half" => LowPrecisionKind.Float16,
                    "bfloat16" => LowPrecisionKind.BFloat16,
                    _ => LowPrecisionKind.None,
                };
            }
        }

        return LowPrecisionKind.None;

        static IOperation? Next(IOperation operation) => operation switch
        {
            IArgumentOperation argument => argument.Value,
            IConversionOperation conversion => conversion.Operand,
            _ => null,
        };
    }

    /// <summary>The receiver of an instance call or of an extension method called as one.</summary>
    public static IOperation? Receiver(IInvocationOperation invocation)
    {
        if (invocation.Instance is not null)
        {
            return Unwrap(invocation.Instance);
        }

        return invocation.TargetMethod.IsExtensionMethod && invocation.Arguments.Length > 0
            ? Unwrap(invocation.Arguments[0].Value)
            : null;
    }

    /// <summary>
    /// A call that converts a tensor or module to a dtype: <c>half()</c>, <c>bfloat16()</c>,
    /// <c>float()</c>, <c>to(dtype)</c>, <c>to_type(dtype)</c>, <c>type(dtype)</c>, <c>to(other)</c>
    /// (whose dtype is reported as unknown, <see cref="LowPrecisionKind.None"/>).
    /// Returns false for calls that do not change the dtype (<c>to(device)</c>).
    /// </summary>
    public static bool IsDtypeCast(IInvocationOperation invocation, TorchSymbols symbols, out LowPrecisionSite site)
    {
        site = default;

        // The name first: asked of every invocation by several rules, and most are no cast.
        var name = invocation.TargetMethod.Name;
        if (name is not ("half" or "bfloat16" or "float" or "double" or "to" or "to_type" or "type"))
        {
            return false;
        }

        var receiver = Receiver(invocation);
        if (receiver is null || !(symbols.IsTensor(receiver.Type) || symbols.IsModule(receiver.Type)))
        {
            return false;
        }

        switch (name)
        {
            case "half":
                site = new LowPrecisionSite(invocation, LowPrecisionKind.Float16);
                return true;
            case "bfloat16":
                site = new LowPrecisionSite(invocation, LowPrecisionKind.BFloat16);
                return true;
            case "float" or "double":
                site = new LowPrecisionSite(invocation, LowPrecisionKind.None);
                return true;
            case "to" or "to_type" or "type":
                foreach (var argument in invocation.Arguments)
                {
                    if (IsScalarTypeParameter(argument.Parameter, symbols))
                    {
                        site = new LowPrecisionSite(argument.Value, OfDtype(argument.Value, symbols));
                        return true;
                    }

                    // x.to(other) takes other's dtype, which is not known here.
                    if (symbols.IsTensor(argument.Parameter?.Type) && argument.Parameter?.Ordinal == (invocation.Instance is null ? 1 : 0))
                    {
                        site = new LowPrecisionSite(argument.Value, LowPrecisionKind.None);
                        return true;
                    }
                }

                return false;
            default:
                return false;
        }
    }

    /// <summary>A call that converts to float16, bfloat16 or float8.</summary>
    public static bool IsLowPrecisionCast(IInvocationOperation invocation, TorchSymbols symbols, out LowPrecisionSite site) =>
        IsDtypeCast(invocation, symbols, out site) && site.Kind != LowPrecisionKind.None;

    private static bool IsScalarTypeParameter(IParameterSymbol? parameter, TorchSymbols symbols)
    {
        if (parameter is null || symbols.ScalarType is null)
        {
            return false;
        }

        var type = parameter.Type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable
            ? nullable.TypeArguments[0]
            : parameter.Type;
        return SymbolEqualityComparer.Default.Equals(type, symbols.ScalarType);
    }
}
