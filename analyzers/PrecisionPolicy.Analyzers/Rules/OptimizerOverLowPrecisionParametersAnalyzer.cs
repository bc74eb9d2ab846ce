using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Analyzers.Helpers;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0003: <c>torch.optim.Adam(model.parameters())</c> in a method that casts <c>model</c> to
/// float16/bfloat16, outside a MasterWeightOptimizer.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class OptimizerOverLowPrecisionParametersAnalyzer : TorchAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(Descriptors.OptimizerOverLowPrecisionParameters);

    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols) =>
        context.RegisterOperationBlockAction(c => Analyze(c, symbols));

    private static void Analyze(OperationBlockAnalysisContext context, TorchSymbols symbols)
    {
        var operations = Operations.Flatten(context.OperationBlocks, context.CancellationToken);
        var casts = ModuleCasts.Find(operations, symbols);
        if (casts.Count == 0)
        {
            return;
        }

        foreach (var operation in operations)
        {
            if (operation is IInvocationOperation invocation &&
                symbols.IsOptimizerFactory(invocation) &&
                invocation.Arguments.Length > 0 &&
                ModuleCasts.ParametersOf(invocation.Arguments[0].Value, casts) is { } module &&
                !Operations.IsInsideMasterWeightOptimizer(invocation, symbols))
            {
                context.ReportDiagnostic(Diagnostic.Create(
                    Descriptors.OptimizerOverLowPrecisionParameters,
                    invocation.Syntax.GetLocation(),
                    invocation.TargetMethod.Name,
                    module.Name,
                    LowPrecision.Describe(casts[module])));
            }
        }
    }

}
