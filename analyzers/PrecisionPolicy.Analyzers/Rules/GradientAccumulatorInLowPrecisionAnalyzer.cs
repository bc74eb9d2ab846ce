using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using PrecisionPolicy.Analyzers.Helpers;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0002: a tensor that gradients are added into (<c>acc.add_(p.grad)</c>, <c>acc += g</c>,
/// <c>acc = acc + p.grad</c>; also <c>bufs[i].add_(p.grad)</c>) or that is marked
/// [GradientAccumulator], created in low precision by an explicit cast or dtype. Where it was created
/// is found by the dtype flow analysis (<see cref="DtypeFlow"/>): locals, fields, list and array
/// elements, LINQ-built lists, helper methods. A dtype inherited from another tensor is PP0017's.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class GradientAccumulatorInLowPrecisionAnalyzer()
    : LowPrecisionCreationAnalyzer(Descriptors.GradientAccumulatorInLowPrecision, DtypeOrigin.Explicit, ObservedKinds)
{
    private static readonly OperationKind[] ObservedKinds =
        [.. Operations.AssignmentKinds, OperationKind.Invocation, OperationKind.CompoundAssignment];

    private protected override void Analyze(OperationAnalysisContext context, DtypeFlow flow, TypeScopedReports reports)
    {
        var symbols = flow.Symbols;
        foreach (var (target, value) in Operations.Assignments(context.Operation))
        {
            if (TorchSymbols.HasAttribute(target, symbols.GradientAccumulator))
            {
                Add(reports, target.Name, value, flow.Of(value, context.CancellationToken));
            }
        }

        if (TensorRoles.AccumulatedInto(context.Operation, flow, context.CancellationToken) is { } accumulator)
        {
            var name = Operations.ReferencedSymbol(accumulator)?.Name ?? accumulator.Syntax.ToString();
            Add(reports, name, accumulator, flow.Of(accumulator, context.CancellationToken));
        }
    }
}
