using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Analyzers.Helpers;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0003: <c>torch.optim.Adam(model.parameters())</c> where <c>model</c> is float16/bfloat16
/// (followed by <see cref="DtypeFlow"/>: a local, a field cast in another member, a helper's result),
/// outside a MasterWeightOptimizer.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class OptimizerOverLowPrecisionParametersAnalyzer() : TorchAnalyzer(Descriptors.OptimizerOverLowPrecisionParameters)
{
    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        var flow = DtypeFlow.For(context.Compilation, symbols);
        context.RegisterOperationAction(c => Analyze(c, flow), OperationKind.Invocation);
    }

    private static void Analyze(OperationAnalysisContext context, DtypeFlow flow)
    {
        var invocation = (IInvocationOperation)context.Operation;
        if (flow.Symbols.IsOptimizerFactory(invocation) &&
            invocation.Arguments.Length > 0 &&
            flow.OfElements(invocation.Arguments[0].Value, context.CancellationToken) is { IsLow: true } parameters &&
            !Operations.IsInsideMasterWeightOptimizer(invocation, flow.Symbols))
        {
            context.ReportDiagnostic(Diagnostic.Create(
                Descriptors.OptimizerOverLowPrecisionParameters,
                invocation.Syntax.GetLocation(),
                invocation.TargetMethod.Name,
                ModelName(invocation.Arguments[0].Value),
                LowPrecision.Describe(parameters.Kind)));
        }
    }

    /// <summary><c>model</c> in <c>model.parameters()</c>, else the argument as written.</summary>
    private static string ModelName(IOperation argument) =>
        LowPrecision.Unwrap(argument) is IInvocationOperation { TargetMethod.Name: "parameters" or "named_parameters" } call &&
        Operations.ReferencedSymbol(LowPrecision.Receiver(call)) is { } module
            ? module.Name
            : argument.Syntax.ToString();
}
