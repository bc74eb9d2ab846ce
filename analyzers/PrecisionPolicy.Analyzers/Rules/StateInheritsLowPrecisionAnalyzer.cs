using System.Collections.Immutable;
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
public sealed class StateInheritsLowPrecisionAnalyzer : TorchAnalyzer
{
    private static readonly OperationKind[] ObservedKinds =
        [.. Operations.AssignmentKinds, OperationKind.Invocation, OperationKind.CompoundAssignment];

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(Descriptors.StateInheritsLowPrecision);

    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        var flow = DtypeFlow.For(context.Compilation, symbols);
        TypeScopedReports.RegisterPerType(context, ObservedKinds, (c, reports) => Analyze(c, flow, reports));
    }

    private static void Analyze(OperationAnalysisContext context, DtypeFlow flow, TypeScopedReports reports)
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

    private static void Add(TypeScopedReports reports, string name, IOperation use, DtypeFact fact)
    {
        if (fact is { IsLow: true, Origin: DtypeOrigin.Inherited, Site: { } site })
        {
            var dtype = LowPrecision.Describe(fact.Kind);
            reports.Add(site, use, location => Diagnostic.Create(Descriptors.StateInheritsLowPrecision, location, name, dtype));
        }
    }
}
