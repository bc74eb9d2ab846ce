using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Analyzers.Helpers;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0002: a tensor that gradients are added into (<c>acc.add_(p.grad)</c>, <c>acc += p.grad</c>,
/// <c>acc = acc + p.grad</c>) or that is marked [GradientAccumulator], created in low precision.
/// Both the accumulation and the creation must be in the same type (locals: the same method).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class GradientAccumulatorInLowPrecisionAnalyzer : TorchAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(Descriptors.GradientAccumulatorInLowPrecision);

    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols) =>
        context.RegisterSymbolStartAction(start => OnType(start, symbols), SymbolKind.NamedType);

    private static readonly OperationKind[] ObservedKinds =
        [.. Operations.AssignmentKinds, OperationKind.Invocation, OperationKind.CompoundAssignment];

    private static void OnType(SymbolStartAnalysisContext context, TorchSymbols symbols)
    {
        var lowPrecisionStores = new ConcurrentQueue<(ISymbol Target, LowPrecisionSite Site)>();
        var accumulators = new ConcurrentDictionary<ISymbol, bool>(SymbolEqualityComparer.Default);

        context.RegisterOperationAction(
            c =>
            {
                foreach (var (target, value) in Operations.Assignments(c.Operation))
                {
                    if (symbols.IsTensor(Operations.TypeOf(target)) && LowPrecision.FindInValue(value, symbols) is { } site)
                    {
                        lowPrecisionStores.Enqueue((target, site));
                    }
                }

                if (AccumulatedInto(c.Operation, symbols) is { } accumulator)
                {
                    accumulators[accumulator] = true;
                }
            },
            ObservedKinds);

        context.RegisterSymbolEndAction(c =>
        {
            foreach (var (target, site) in lowPrecisionStores.OrderBy(static s => s.Site.Operation.Syntax.SpanStart))
            {
                if (accumulators.ContainsKey(target) || TorchSymbols.HasAttribute(target, symbols.GradientAccumulator))
                {
                    c.ReportDiagnostic(Diagnostic.Create(
                        Descriptors.GradientAccumulatorInLowPrecision, site.Location, target.Name, site.DtypeName));
                }
            }
        });
    }

    /// <summary>The variable a gradient is added into, or null.</summary>
    private static ISymbol? AccumulatedInto(IOperation operation, TorchSymbols symbols)
    {
        switch (operation)
        {
            case IInvocationOperation { TargetMethod.Name: "add_", Arguments.Length: > 0 } add
                when symbols.IsTensor(add.Instance?.Type) && ReadsGradient(add.Arguments[0].Value, symbols):
                return Operations.ReferencedSymbol(add.Instance);
            case ICompoundAssignmentOperation { OperatorKind: BinaryOperatorKind.Add } compound
                when symbols.IsTensor(compound.Target.Type) && ReadsGradient(compound.Value, symbols):
                return Operations.ReferencedSymbol(compound.Target);
            case ISimpleAssignmentOperation { Value: IBinaryOperation { OperatorKind: BinaryOperatorKind.Add } sum } assignment
                when symbols.IsTensor(assignment.Target.Type) && Operations.ReferencedSymbol(assignment.Target) is { } target:
                var left = Operations.ReferencedSymbol(sum.LeftOperand);
                var right = Operations.ReferencedSymbol(sum.RightOperand);
                return (SymbolEqualityComparer.Default.Equals(left, target) && ReadsGradient(sum.RightOperand, symbols)) ||
                    (SymbolEqualityComparer.Default.Equals(right, target) && ReadsGradient(sum.LeftOperand, symbols))
                    ? target
                    : null;
            default:
                return null;
        }
    }

    private static bool ReadsGradient(IOperation value, TorchSymbols symbols) =>
        value.DescendantsAndSelf().Any(o =>
            o is IPropertyReferenceOperation { Property.Name: "grad" } grad && symbols.IsTensor(grad.Property.ContainingType));
}
