using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using PrecisionPolicy.Analyzers.Helpers;

namespace PrecisionPolicy.Analyzers.Rules;

/// <summary>
/// PP0006: <c>scheduler.step()</c> after a step that can be skipped (<c>MasterWeightOptimizer.Step</c>,
/// or any call returning an outcome with <c>Applied</c>) in the same loop body
/// (or the same method outside loops), neither inside a condition on the outcome's
/// <c>Applied</c>/<c>Skipped</c> nor after an early exit on one (<c>if (o.Skipped) continue;</c>),
/// in a method that does not call <c>AttachScheduler</c>.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SchedulerSteppedOnSkippableStepAnalyzer() : TorchAnalyzer(Descriptors.SchedulerSteppedOnSkippableStep)
{
    /// <summary>Diagnostic property: the local holding the step outcome, when there is one (the code fix guards on it).</summary>
    public const string OutcomeVariableProperty = "OutcomeVariable";

    private protected override void OnTorchCompilationStart(CompilationStartAnalysisContext context, TorchSymbols symbols)
    {
        if (symbols.MasterWeightOptimizer is not null)
        {
            context.RegisterOperationBlockAction(c => Analyze(c, symbols));
        }
    }

    private static void Analyze(OperationBlockAnalysisContext context, TorchSymbols symbols)
    {
        // A scheduler's step() is what is reported: bodies without one, or that attach the scheduler, are skipped unwalked.
        var block = MethodBlock.Of(context);
        if (!block.Mentions("step") || block.Mentions("AttachScheduler"))
        {
            return;
        }

        IInvocationOperation? lastStep = null;
        var guardedSinceStep = false;
        foreach (var operation in block.Operations)
        {
            switch (operation)
            {
                case IInvocationOperation step when IsSkippableStep(step, symbols):
                    lastStep = step;
                    guardedSinceStep = false;
                    break;
                case IConditionalOperation conditional when lastStep is not null && ReadsOutcome(conditional.Condition) && ExitsEarly(conditional):
                    guardedSinceStep = true;
                    break;
                case IInvocationOperation { TargetMethod.Name: "step" } schedulerStep
                    when lastStep is not null && !guardedSinceStep &&
                        symbols.IsScheduler(schedulerStep.Instance?.Type) &&
                        SameLoop(lastStep, schedulerStep) &&
                        !IsInsideOutcomeCondition(schedulerStep):
                    context.ReportDiagnostic(Diagnostic.Create(
                        Descriptors.SchedulerSteppedOnSkippableStep,
                        schedulerStep.Syntax.GetLocation(),
                        OutcomeProperties(lastStep),
                        schedulerStep.Instance!.Syntax.ToString(),
                        lastStep.Instance?.Syntax.ToString() ?? lastStep.TargetMethod.ContainingType.Name));
                    break;
            }
        }
    }

    /// <summary>
    /// <c>MasterWeightOptimizer.Step</c>, or any call returning an outcome with a bool <c>Applied</c>
    /// (the generated <c>TrainStep</c>).
    /// </summary>
    private static bool IsSkippableStep(IInvocationOperation invocation, TorchSymbols symbols) =>
        (invocation.TargetMethod.Name == "Step" && symbols.IsMasterWeightOptimizer(invocation.TargetMethod.ContainingType)) ||
        invocation.TargetMethod.ReturnType.GetMembers("Applied").Any(static m => m is IPropertySymbol { Type.SpecialType: SpecialType.System_Boolean });

    private static ImmutableDictionary<string, string?> OutcomeProperties(IInvocationOperation step)
    {
        var outcome = step.Parent switch
        {
            IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator } => declarator.Symbol,
            ISimpleAssignmentOperation { Target: ILocalReferenceOperation local } => local.Local,
            _ => null,
        };
        return outcome is null
            ? ImmutableDictionary<string, string?>.Empty
            : ImmutableDictionary<string, string?>.Empty.Add(OutcomeVariableProperty, outcome.Name);
    }

    private static bool ReadsOutcome(IOperation condition) =>
        condition.DescendantsAndSelf().Any(static o => o is IPropertyReferenceOperation { Property.Name: "Applied" or "Skipped" });

    /// <summary><c>if (outcome.Skipped) continue;</c>: everything after it runs only for applied steps.</summary>
    private static bool ExitsEarly(IConditionalOperation conditional)
    {
        var last = conditional.WhenTrue is IBlockOperation block
            ? (block.Operations.Length > 0 ? block.Operations[block.Operations.Length - 1] : null)
            : conditional.WhenTrue;
        return last is IBranchOperation or IReturnOperation or IThrowOperation ||
            last is IExpressionStatementOperation { Operation: IThrowOperation };
    }

    private static bool IsInsideOutcomeCondition(IOperation operation)
    {
        for (var current = operation.Parent; current is not null; current = current.Parent)
        {
            if (current is IConditionalOperation conditional && ReadsOutcome(conditional.Condition))
            {
                return true;
            }
        }

        return false;
    }

    private static bool SameLoop(IOperation a, IOperation b) =>
        ReferenceEquals(InnermostLoop(a), InnermostLoop(b));

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
}
