using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Analyzers.Helpers;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0022: evenly spaced values (<c>arange</c>, <c>linspace</c>: positions, token ids, timesteps) put
/// into a 16-bit dtype beyond the integers it holds exactly (256 for bfloat16, 2048 for float16), or
/// with a bound that is not a constant: by a cast (<c>.half()</c>, <c>.to(dtype)</c>, <c>.type_as(t)</c>
/// with <c>t</c> 16-bit) or by <c>arange(n, dtype: ...)</c>. Neighbouring positions or timesteps then
/// round to the same value.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class IntegersBeyondExactRangeAnalyzer() : TorchAnalyzer(Descriptors.IntegersBeyondExactRange)
{
    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        var flow = DtypeFlow.For(context.Compilation, symbols);
        context.RegisterOperationAction(c => Analyze(c, flow), OperationKind.Invocation);
    }

    private static void Analyze(OperationAnalysisContext context, DtypeFlow flow)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var name = invocation.TargetMethod.Name;
        if (name is not ("half" or "bfloat16" or "to" or "to_type" or "type" or "type_as" or "arange" or "linspace"))
        {
            return;
        }

        var symbols = flow.Symbols;
        var cancellationToken = context.CancellationToken;
        IOperation? values;
        DtypeFact target;
        if (name is "arange" or "linspace")
        {
            // arange(n, dtype: bfloat16): the creation itself is low.
            if (!symbols.IsInTorch(invocation.TargetMethod.ContainingType) || !HasDtypeArgument(invocation))
            {
                return;
            }

            values = invocation;
            target = flow.Of(invocation, cancellationToken);
        }
        else if (name == "type_as")
        {
            if (!symbols.IsTensor(invocation.TargetMethod.ContainingType) || invocation.Arguments.Length == 0)
            {
                return;
            }

            values = invocation.Instance;
            target = flow.Of(invocation.Arguments[0].Value, cancellationToken);
        }
        else
        {
            if (!LowPrecision.IsDtypeCast(invocation, symbols, out _))
            {
                return;
            }

            values = LowPrecision.Receiver(invocation);
            target = flow.Of(invocation, cancellationToken);
        }

        if (!target.IsLow || !symbols.IsTensor(values?.Type) && name is not ("arange" or "linspace"))
        {
            return;
        }

        var limit = DtypeLimits.ExactIntegers(target.Kind);
        var bound = name is "arange" or "linspace"
            ? ValueFacts.EvenlySpacedBound(invocation, flow, cancellationToken)
            : ValueFacts.EvenlySpacedBound(values, flow, cancellationToken);
        if (bound is not { } largest || largest <= limit)
        {
            return;
        }

        context.ReportDiagnostic(Diagnostic.Create(
            Descriptors.IntegersBeyondExactRange,
            invocation.Syntax.GetLocation(),
            double.IsPositiveInfinity(largest) ? "a bound that is not a constant" : largest.ToString("G", CultureInfo.InvariantCulture),
            LowPrecision.Describe(target.Kind),
            limit.ToString("G", CultureInfo.InvariantCulture)));
    }

    private static bool HasDtypeArgument(IInvocationOperation invocation)
    {
        foreach (var argument in invocation.Arguments)
        {
            if (argument.ArgumentKind == ArgumentKind.Explicit && argument.Parameter?.Name is "dtype")
            {
                return true;
            }
        }

        return false;
    }
}
