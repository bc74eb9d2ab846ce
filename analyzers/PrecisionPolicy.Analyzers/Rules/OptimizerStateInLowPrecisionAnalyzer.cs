using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Analyzers.Helpers;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0001: optimizer state created in low precision by an explicit cast or dtype. A tensor is
/// optimizer state when the code keeps a moving average of gradients in it
/// (<see cref="TensorRoles.MovingAverageOf"/>), when it is a field of an optimizer class or marked
/// [OptimizerState], or — the documented name fallback, which still needs a low-precision creation
/// as evidence — when it is named like PyTorch's state (exp_avg, momentum_buffer, ...), as a variable
/// or a state-dictionary key. Where the tensor was created is found by <see cref="DtypeFlow"/>.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class OptimizerStateInLowPrecisionAnalyzer()
    : LowPrecisionCreationAnalyzer(Descriptors.OptimizerStateInLowPrecision, DtypeOrigin.Explicit, ObservedKinds)
{
    private static readonly OperationKind[] ObservedKinds =
        [.. Operations.AssignmentKinds, OperationKind.Invocation];

    private protected override void Analyze(OperationAnalysisContext context, DtypeFlow flow, TypeScopedReports reports)
    {
        var symbols = flow.Symbols;
        var cancellationToken = context.CancellationToken;
        foreach (var (target, value) in Operations.Assignments(context.Operation))
        {
            if (IsDeclaredState(target, symbols))
            {
                Add(reports, target.Name, value, flow.Of(value, cancellationToken));
            }
        }

        if (context.Operation is ISimpleAssignmentOperation { Target: IPropertyReferenceOperation { Arguments: [var key] } indexer } assignment &&
            symbols.IsTensor(indexer.Type) &&
            key.Value.ConstantValue is { HasValue: true, Value: string name } &&
            OptimizerStateNames.IsStateName(name))
        {
            Add(reports, name, assignment.Value, flow.Of(assignment.Value, cancellationToken));
        }

        if (TensorRoles.MovingAverageOf(context.Operation, flow, cancellationToken) is { } state)
        {
            var stateName = Operations.ReferencedSymbol(state)?.Name ?? state.Syntax.ToString();
            Add(reports, stateName, state, flow.Of(state, cancellationToken));
        }
    }

    private static bool IsDeclaredState(ISymbol target, TorchSymbols symbols)
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
