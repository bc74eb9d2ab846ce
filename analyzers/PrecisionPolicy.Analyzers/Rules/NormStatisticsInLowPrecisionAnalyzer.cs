using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Analyzers.Helpers;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0007: a norm layer (the catalogue's normalization module rows: BatchNorm*, InstanceNorm*,
/// LayerNorm, GroupNorm, LocalResponseNorm) or its
/// running_mean/running_var cast to low precision, or a norm layer created with a low-precision
/// <c>dtype:</c>.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class NormStatisticsInLowPrecisionAnalyzer() : TorchAnalyzer(Descriptors.NormStatisticsInLowPrecision)
{
    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        var flow = DtypeFlow.For(context.Compilation, symbols);
        context.RegisterOperationAction(c => Analyze(c, symbols, flow), OperationKind.Invocation);
    }

    private static void Analyze(OperationAnalysisContext context, TorchSymbols symbols, DtypeFlow flow)
    {
        var invocation = (IInvocationOperation)context.Operation;
        if (LowPrecision.IsLowPrecisionCast(invocation, symbols, out var cast) &&
            LowPrecision.Receiver(invocation) is { } receiver &&
            (symbols.IsNormLayer(receiver.Type) || IsRunningStatistic(receiver, symbols)))
        {
            Report(context, receiver.Syntax.ToString(), cast);
        }
        else if (invocation.Arguments.Length > 0 &&
            symbols.IsInTorch(invocation.TargetMethod.ContainingType) &&
            symbols.IsNormLayer(invocation.TargetMethod.ReturnType) &&
            flow.HasLowPrecisionDtypeArgument(invocation, context.CancellationToken, out var dtype))
        {
            Report(context, invocation.TargetMethod.Name, dtype);
        }
    }

    private static void Report(OperationAnalysisContext context, string subject, LowPrecisionSite site) =>
        context.ReportDiagnostic(Diagnostic.Create(
            Descriptors.NormStatisticsInLowPrecision, site.Location, subject, site.DtypeName));

    private static bool IsRunningStatistic(IOperation receiver, TorchSymbols symbols) =>
        receiver is IPropertyReferenceOperation { Property.Name: "running_mean" or "running_var" } property &&
        TorchSymbols.Derives(property.Property.ContainingType, symbols.NormBase);
}
