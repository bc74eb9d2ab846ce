using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace PrecisionPolicy.Analyzers.Helpers;

/// <summary>
/// The modules a method casts to low precision: <c>model.half();</c>,
/// <c>var model = new Net().to(ScalarType.Float16);</c>, <c>model = model.bfloat16();</c>.
/// Flow is per method: a module cast in another method is not seen.
/// </summary>
internal static class ModuleCasts
{
    public static Dictionary<ISymbol, LowPrecisionKind> Find(IEnumerable<IOperation> operations, TorchSymbols symbols)
    {
        var casts = new Dictionary<ISymbol, LowPrecisionKind>(SymbolEqualityComparer.Default);
        foreach (var operation in operations)
        {
            if (operation is IInvocationOperation invocation &&
                LowPrecision.IsLowPrecisionCast(invocation, symbols, out var site) &&
                LowPrecision.Receiver(invocation) is { } receiver &&
                symbols.IsModule(receiver.Type) &&
                Operations.ReferencedSymbol(receiver) is { } castModule)
            {
                casts[castModule] = site.Kind;
                continue;
            }

            foreach (var (target, value) in Operations.Assignments(operation))
            {
                if (symbols.IsModule(value.Type) && LowPrecision.FindInValue(value, symbols) is { } stored)
                {
                    casts[target] = stored.Kind;
                }
            }
        }

        return casts;
    }

    /// <summary>The cast module whose <c>parameters()</c> or <c>named_parameters()</c> an argument passes.</summary>
    public static ISymbol? ParametersOf(IOperation? argument, Dictionary<ISymbol, LowPrecisionKind> casts)
    {
        if (LowPrecision.Unwrap(argument) is IInvocationOperation { TargetMethod.Name: "parameters" or "named_parameters" } call &&
            Operations.ReferencedSymbol(call.Instance) is { } module &&
            casts.ContainsKey(module))
        {
            return module;
        }

        return null;
    }
}
