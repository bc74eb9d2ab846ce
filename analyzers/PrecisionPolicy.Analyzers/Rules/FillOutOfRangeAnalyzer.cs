using System.Collections.Immutable;
using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Analyzers.Helpers;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0021: a fill value beyond the largest finite value of the tensor's dtype
/// (<c>scores.masked_fill(mask, -1e9)</c> on float16 scores, <c>float.MinValue</c>,
/// <c>-finfo(float32).max</c>), wherever the dtype came from (<see cref="DtypeFlow"/>). libtorch throws
/// "value cannot be converted to type c10::Half without overflow" or the fill becomes inf.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class FillOutOfRangeAnalyzer() : TorchAnalyzer(Descriptors.FillOutOfRange)
{
    /// <summary>Diagnostic property: "min" for a negative fill, "max" for a positive one (the finfo member the fix uses).</summary>
    public const string LimitProperty = "Limit";

    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        var flow = DtypeFlow.For(context.Compilation, symbols);
        context.RegisterOperationAction(c => Analyze(c, flow), OperationKind.Invocation);
    }

    private static void Analyze(OperationAnalysisContext context, DtypeFlow flow)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        var symbols = flow.Symbols;

        // The name first: asked of every invocation.
        if (method.Name is not ("masked_fill" or "masked_fill_" or "fill_" or "index_fill" or "index_fill_" or "full_like"))
        {
            return;
        }

        IOperation? tensor;
        if (method.Name == "full_like")
        {
            tensor = symbols.IsInTorch(method.ContainingType) && invocation.Arguments.Length > 0 ? invocation.Arguments[0].Value : null;
        }
        else
        {
            tensor = symbols.IsTensor(method.ContainingType) ? invocation.Instance : null;
        }

        var value = ValueArgument(invocation);
        if (tensor is null || value is null || !ValueFacts.TryConstant(value.Value, symbols, out var fill) ||
            double.IsInfinity(fill) || double.IsNaN(fill))
        {
            return;
        }

        // full_like with an explicit dtype makes its own dtype; the flow of the call says which.
        var fact = method.Name == "full_like" ? flow.Of(invocation, context.CancellationToken) : flow.Of(tensor, context.CancellationToken);
        if (!fact.IsLow || System.Math.Abs(fill) <= DtypeLimits.MaxFinite(fact.Kind))
        {
            return;
        }

        var properties = ImmutableDictionary<string, string?>.Empty.Add(LimitProperty, fill < 0 ? "min" : "max");
        context.ReportDiagnostic(Diagnostic.Create(
            Descriptors.FillOutOfRange,
            value.Value.Syntax.GetLocation(),
            properties,
            fill.ToString("G3", CultureInfo.InvariantCulture),
            LowPrecision.Describe(fact.Kind),
            DtypeLimits.MaxFinite(fact.Kind).ToString("G3", CultureInfo.InvariantCulture)));
    }

    private static IArgumentOperation? ValueArgument(IInvocationOperation invocation)
    {
        foreach (var argument in invocation.Arguments)
        {
            if (argument.ArgumentKind == ArgumentKind.Explicit && argument.Parameter?.Name is "value" or "fill_value")
            {
                return argument;
            }
        }

        return null;
    }
}
