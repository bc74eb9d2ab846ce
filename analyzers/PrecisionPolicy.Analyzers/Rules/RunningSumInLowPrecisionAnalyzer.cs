using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Analyzers.Helpers;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0018: a sum kept across the iterations of a loop in 16 bits: a <c>System.Half</c> variable
/// (<c>total += (Half)loss.item&lt;float&gt;()</c>), or a tensor the dtype flow analysis knows is
/// 16-bit (<c>total += loss</c>, <c>total = total + loss</c>, <c>total.add_(loss)</c>). Sums of
/// gradients are PP0002's.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class RunningSumInLowPrecisionAnalyzer() : TorchAnalyzer(Descriptors.RunningSumInLowPrecision)
{
    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        var flow = DtypeFlow.For(context.Compilation, symbols);
        var half = context.Compilation.GetTypeByMetadataName("System.Half");
        context.RegisterOperationAction(
            c => Analyze(c, flow, half),
            OperationKind.CompoundAssignment, OperationKind.SimpleAssignment, OperationKind.Invocation);
    }

    private static void Analyze(OperationAnalysisContext context, DtypeFlow flow, INamedTypeSymbol? half)
    {
        // Cheap syntax-level tests first; the flow and gradient queries only for running sums.
        if (RunningSum(context.Operation, flow.Symbols) is not var (target, added) ||
            Operations.ReferencedSymbol(target) is not { } symbol ||
            !IsOutsideInnermostLoop(symbol, context.Operation))
        {
            return;
        }

        string? dtype = null;
        if (half is not null && SymbolEqualityComparer.Default.Equals(target.Type, half))
        {
            dtype = "System.Half";
        }
        else if (flow.Symbols.IsTensor(target.Type) && flow.Of(target, context.CancellationToken) is { IsLow: true } fact)
        {
            dtype = LowPrecision.Describe(fact.Kind);
        }

        if (dtype is not null && !TensorRoles.ReadsGradient(added, flow, context.CancellationToken))
        {
            context.ReportDiagnostic(Diagnostic.Create(Descriptors.RunningSumInLowPrecision, context.Operation.Syntax.GetLocation(), symbol.Name, dtype));
        }
    }

    /// <summary>The variable a value is added into and the added value: <c>t += v</c>, <c>t = t + v</c>, <c>t.add_(v)</c>.</summary>
    private static (IOperation Target, IOperation Added)? RunningSum(IOperation operation, TorchSymbols symbols)
    {
        switch (operation)
        {
            case ICompoundAssignmentOperation { OperatorKind: BinaryOperatorKind.Add } compound:
                return (compound.Target, compound.Value);
            case ISimpleAssignmentOperation { Value: IBinaryOperation { OperatorKind: BinaryOperatorKind.Add } sum } assignment
                when Operations.ReferencedSymbol(assignment.Target) is { } target:
                if (SymbolEqualityComparer.Default.Equals(Operations.ReferencedSymbol(sum.LeftOperand), target))
                {
                    return (assignment.Target, sum.RightOperand);
                }

                return SymbolEqualityComparer.Default.Equals(Operations.ReferencedSymbol(sum.RightOperand), target)
                    ? (assignment.Target, sum.LeftOperand)
                    : null;
            case IInvocationOperation { TargetMethod.Name: "add_", Arguments.Length: > 0, Instance: { } instance } add when symbols.IsTensor(instance.Type):
                return (instance, add.Arguments[0].Value);
            default:
                return null;
        }
    }

    /// <summary>A running sum: the addition is in a loop and the variable lives outside it (a field, or a local declared before the loop).</summary>
    private static bool IsOutsideInnermostLoop(ISymbol symbol, IOperation operation)
    {
        for (var current = operation.Parent; current is not null; current = current.Parent)
        {
            if (current is ILoopOperation loop)
            {
                return symbol is not ILocalSymbol local ||
                    local.DeclaringSyntaxReferences.Length == 0 ||
                    !loop.Syntax.Span.Contains(local.DeclaringSyntaxReferences[0].Span);
            }

            if (current is IAnonymousFunctionOperation or ILocalFunctionOperation)
            {
                return false;
            }
        }

        return false;
    }
}
