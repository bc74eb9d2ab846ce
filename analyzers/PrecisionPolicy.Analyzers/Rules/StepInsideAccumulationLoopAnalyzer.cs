using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Analyzers.Helpers;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0015: in a gradient accumulation loop, an optimizer <c>step()</c>, <c>zero_grad()</c> or
/// gradient clipping that runs on every micro-batch. The loop is recognised from data: its
/// <c>backward()</c> is on a loss divided by a count <c>n</c> (<c>(loss / n).backward()</c>,
/// <c>loss.div(n)</c>, a local holding one) and <c>n</c> is the loop's bound or is used in a
/// <c>% n</c> test in the method. A call under any condition inside the loop is not reported.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class StepInsideAccumulationLoopAnalyzer() : TorchAnalyzer(Descriptors.StepInsideAccumulationLoop)
{
    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        var flow = DtypeFlow.For(context.Compilation, symbols);
        context.RegisterOperationBlockAction(c => Analyze(c, flow));
    }

    private static void Analyze(OperationBlockAnalysisContext context, DtypeFlow flow)
    {
        var block = MethodBlock.Of(context);
        if (!block.Mentions("backward"))
        {
            return;
        }

        var operations = block.Operations;
        var backwards = operations.OfType<IInvocationOperation>().Where(static b => b.TargetMethod.Name == "backward").ToList();
        if (backwards.Count == 0)
        {
            return;
        }

        var moduloCounts = operations.OfType<IBinaryOperation>()
            .Where(static b => b.OperatorKind == BinaryOperatorKind.Remainder)
            .Select(static b => Operations.ReferencedSymbol(b.RightOperand))
            .Where(static s => s is not null)
            .ToImmutableHashSet(SymbolEqualityComparer.Default);
        var reported = new HashSet<IOperation>();
        foreach (var backward in backwards)
        {
            if (InnermostLoop(backward) is not { } loop ||
                AccumulationCount(backward.Instance, flow, context.CancellationToken) is not { } count ||
                !(moduloCounts.Contains(count) || IsLoopBound(loop, count)))
            {
                continue;
            }

            foreach (var call in operations.OfType<IInvocationOperation>())
            {
                if (IsPerStepCall(call, flow.Symbols) && InnermostLoop(call) == loop && !IsConditional(call, loop) && reported.Add(call))
                {
                    context.ReportDiagnostic(Diagnostic.Create(
                        Descriptors.StepInsideAccumulationLoop, call.Syntax.GetLocation(), call.TargetMethod.Name, count.Name));
                }
            }
        }
    }

    private static bool IsPerStepCall(IInvocationOperation call, TorchSymbols symbols) => call.TargetMethod.Name switch
    {
        "step" or "zero_grad" => symbols.IsOptimizerClass(call.Instance?.Type) || symbols.IsOptimizerClass(call.TargetMethod.ContainingType),
        "clip_grad_norm_" or "clip_grad_value_" => SymbolEqualityComparer.Default.Equals(call.TargetMethod.ContainingType, symbols.NnUtils),
        _ => false,
    };

    /// <summary>The count a loss is divided by before backward: <c>n</c> in <c>(loss / n).backward()</c>.</summary>
    private static ISymbol? AccumulationCount(IOperation? loss, DtypeFlow flow, System.Threading.CancellationToken cancellationToken)
    {
        for (var depth = 0; depth < 4; depth++)
        {
            switch (LowPrecision.Unwrap(loss))
            {
                case IBinaryOperation { OperatorKind: BinaryOperatorKind.Divide } division:
                    return Operations.ReferencedSymbol(division.RightOperand);
                case IInvocationOperation { TargetMethod.Name: "div" or "divide", Arguments.Length: > 0 } div:
                    return Operations.ReferencedSymbol(div.Arguments[0].Value);
                case ILocalReferenceOperation local when flow.ValuesOf(local.Local, local, cancellationToken) is [var only]:
                    loss = only;
                    break;
                default:
                    return null;
            }
        }

        return null;
    }

    private static bool IsLoopBound(ILoopOperation loop, ISymbol count) =>
        loop is IForLoopOperation { Condition: { } condition } &&
        condition.DescendantsAndSelf().Any(o => SymbolEqualityComparer.Default.Equals(Operations.ReferencedSymbol(o), count));

    private static ILoopOperation? InnermostLoop(IOperation operation)
    {
        for (var current = operation.Parent; current is not null; current = current.Parent)
        {
            if (current is ILoopOperation loop)
            {
                return loop;
            }
        }

        return null;
    }

    private static bool IsConditional(IOperation operation, ILoopOperation loop)
    {
        for (var current = operation.Parent; current is not null && current != loop; current = current.Parent)
        {
            if (current is IConditionalOperation or ISwitchOperation)
            {
                return true;
            }
        }

        return false;
    }
}
