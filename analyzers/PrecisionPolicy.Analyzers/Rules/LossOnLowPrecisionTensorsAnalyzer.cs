using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Analyzers.Helpers;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0019: a loss function called on a tensor the dtype flow analysis knows is 16-bit (the output of
/// a 16-bit model, inputs cast earlier), outside any [Autocast] class or method. A cast written right
/// at the call (<c>mse_loss(x.half(), y)</c>) is PP0008's.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class LossOnLowPrecisionTensorsAnalyzer : TorchAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(Descriptors.LossOnLowPrecisionTensors);

    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        var flow = DtypeFlow.For(context.Compilation, symbols);
        context.RegisterOperationAction(c => Analyze(c, flow), OperationKind.Invocation);
    }

    private static void Analyze(OperationAnalysisContext context, DtypeFlow flow)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var symbols = flow.Symbols;
        if (!SensitiveOpInLowPrecisionAnalyzer.IsLossFunction(invocation.TargetMethod, symbols) || IsInPolicyRegion(context.ContainingSymbol, symbols))
        {
            return;
        }

        var input = invocation.Instance ?? FirstTensorArgument(invocation, symbols);
        if (input is null ||
            LowPrecision.Unwrap(input) is IInvocationOperation direct && LowPrecision.IsLowPrecisionCast(direct, symbols, out _))
        {
            return;
        }

        if (flow.Of(input, context.CancellationToken) is { IsLow: true } fact)
        {
            context.ReportDiagnostic(Diagnostic.Create(
                Descriptors.LossOnLowPrecisionTensors, invocation.Syntax.GetLocation(), invocation.TargetMethod.Name, LowPrecision.Describe(fact.Kind)));
        }
    }

    // A loop, not FirstOrDefault with a lambda: the lambda's closure would be allocated for every invocation.
    private static IOperation? FirstTensorArgument(IInvocationOperation invocation, TorchSymbols symbols)
    {
        foreach (var argument in invocation.Arguments)
        {
            if (symbols.IsTensor(argument.Parameter?.Type))
            {
                return argument.Value;
            }
        }

        return null;
    }

    private static bool IsInPolicyRegion(ISymbol? symbol, TorchSymbols symbols)
    {
        for (var current = symbol; current is not null; current = current.ContainingSymbol)
        {
            if (TorchSymbols.HasAttribute(current, symbols.Autocast) || TorchSymbols.HasAttribute(current, symbols.HighPrecision))
            {
                return true;
            }
        }

        return false;
    }
}
