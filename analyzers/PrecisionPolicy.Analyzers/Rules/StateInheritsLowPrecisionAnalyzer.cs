using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using PrecisionPolicy.Analyzers.Helpers;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0017: optimizer state or a gradient accumulator (recognised by how it is updated, see
/// <see cref="TensorRoles"/>, or by [OptimizerState]/[GradientAccumulator]) whose 16 bits come from
/// a copy of a 16-bit tensor without a dtype: <c>zeros_like(p)</c>, <c>empty_like(p)</c>, <c>x.to(p)</c>.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class StateInheritsLowPrecisionAnalyzer()
    : LowPrecisionCreationAnalyzer(Descriptors.StateInheritsLowPrecision, DtypeOrigin.Inherited, ObservedKinds)
{
    private static readonly OperationKind[] ObservedKinds =
        [.. Operations.AssignmentKinds, OperationKind.Invocation, OperationKind.CompoundAssignment];

    private protected override void Analyze(OperationAnalysisContext context, DtypeFlow flow, TypeScopedReports reports)
    {
        var symbols = flow.Symbols;
        var cancellationToken = context.CancellationToken;
        foreach (var (target, value) in Operations.Assignments(context.Operation))
        {
            if (TorchSymbols.HasAttribute(target, symbols.OptimizerState) || TorchSymbols.HasAttribute(target, symbols.GradientAccumulator))
            {
                Add(reports, target.Name, value, flow.Of(value, cancellationToken));
            }
        }

        var state = TensorRoles.MovingAverageOf(context.Operation, flow, cancellationToken) ??
            TensorRoles.AccumulatedInto(context.Operation, flow, cancellationToken);
        if (state is not null)
        {
            Add(reports, Operations.ReferencedSymbol(state)?.Name ?? state.Syntax.ToString(), state, flow.Of(state, cancellationToken));
        }
    }
}
