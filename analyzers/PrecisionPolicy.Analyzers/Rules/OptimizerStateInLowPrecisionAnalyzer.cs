using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Analyzers.Helpers;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0001: a low-precision tensor stored as optimizer state — a field of an optimizer class, a
/// member marked [OptimizerState], a variable named like PyTorch's state (exp_avg, momentum_buffer, ...)
/// or a state-dictionary entry with such a key.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class OptimizerStateInLowPrecisionAnalyzer : TorchAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(Descriptors.OptimizerStateInLowPrecision);

    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols) =>
        context.RegisterOperationAction(c => Analyze(c, symbols), Operations.AssignmentKinds);

    private static void Analyze(OperationAnalysisContext context, TorchSymbols symbols)
    {
        foreach (var (target, value) in Operations.Assignments(context.Operation))
        {
            if (IsOptimizerState(target, symbols))
            {
                Report(context, target.Name, value, symbols);
            }
        }

        if (context.Operation is ISimpleAssignmentOperation { Target: IPropertyReferenceOperation { Arguments: [var key] } indexer } assignment &&
            symbols.IsTensor(indexer.Type) &&
            key.Value.ConstantValue is { HasValue: true, Value: string name } &&
            OptimizerStateNames.IsStateName(name))
        {
            Report(context, name, assignment.Value, symbols);
        }
    }

    private static void Report(OperationAnalysisContext context, string name, IOperation value, TorchSymbols symbols)
    {
        if (LowPrecision.FindInValue(value, symbols) is { } site)
        {
            context.ReportDiagnostic(Diagnostic.Create(
                Descriptors.OptimizerStateInLowPrecision, site.Location, name, site.DtypeName));
        }
    }

    private static bool IsOptimizerState(ISymbol target, TorchSymbols symbols)
    {
        if (!symbols.IsTensor(Operations.TypeOf(target)))
        {
            return false;
        }

        return TorchSymbols.HasAttribute(target, symbols.OptimizerState) ||
            (target is IFieldSymbol or IPropertySymbol && symbols.IsOptimizerClass(target.ContainingType)) ||
            OptimizerStateNames.IsStateName(target.Name);
    }
}
