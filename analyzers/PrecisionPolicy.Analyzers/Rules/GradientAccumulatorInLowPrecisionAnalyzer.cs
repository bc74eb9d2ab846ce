using System.Collections.Immutable;
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
public sealed class GradientAccumulatorInLowPrecisionAnalyzer : TorchAnalyzer
{
    private static readonly OperationKind[] ObservedKinds =
        [.. Operations.AssignmentKinds, OperationKind.Invocation, OperationKind.CompoundAssignment];

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(Descriptors.GradientAccumulatorInLowPrecision);

    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        var flow = DtypeFlow.For(context.Compilation, symbols);
        TypeScopedReports.RegisterPerType(context, ObservedKinds, (c, reports) => Analyze(c, flow, reports));
    }

    private static void Analyze(OperationAnalysisContext context, DtypeFlow flow, TypeScopedReports reports)
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

    private static void Add(TypeScopedReports reports, string name, IOperation use, DtypeFact fact)
    {
        if (fact is { IsLow: true, Origin: DtypeOrigin.Explicit, Site: { } site })
        {
            var dtype = LowPrecision.Describe(fact.Kind);
            reports.Add(site, use, location => Diagnostic.Create(Descriptors.GradientAccumulatorInLowPrecision, location, name, dtype));
        }
    }
}
