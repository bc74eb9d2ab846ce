using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace PrecisionPolicy.Analyzers.Helpers;

/// <summary>
/// Settles a loss scaler's per-step sequence from the structure of the operation tree alone, for the
/// common bodies where that is certain, so that <see cref="ScalerSequence"/> (and the control flow graph
/// it needs, the costliest part of the rule) runs only for the others. Settled means: at most one unscale
/// call (no second one can follow a different one); every optimizer step inside an <c>if</c> whose simple
/// condition reads a finiteness result, with no backward inside that branch (every path to the step
/// crosses the check after the last backward); and either no Update at all, or an Update that a
/// reachable backward reaches through statements that complete normally. A body that reads no finiteness
/// result at all settles too when every step is reached, uncheckedly, from a backward (<see cref="TrySettleUnchecked"/>).
/// Each test only ever concludes what the graph analysis would; whatever it cannot prove is left to the graph.
/// </summary>
/// <remarks>
/// Like the graph analysis, it ignores calls inside lambdas and local functions (they are other graphs).
/// C# cannot jump into a nested block from outside it, which is what makes "inside the branch" a fact
/// about every path. Explicit try, switch and labelled statements are not followed (left to the graph).
/// </remarks>
internal static class ScalerOutline
{
    /// <summary>
    /// True if the sequence is settled with no second unscale and no unchecked step; then
    /// <paramref name="updatedAfterBackward"/> says whether an Update can run after a scaled backward.
    /// </summary>
    public static bool TrySettle(
        IOperation root, IReadOnlyList<IOperation> operations, IReadOnlyDictionary<SyntaxNode, ScalerEvent> events,
        System.Func<IOperation, bool> readsFiniteness, out bool updatedAfterBackward)
    {
        updatedAfterBackward = false;
        var backwards = new List<IOperation>();
        var updates = new List<IOperation>();
        var steps = new List<IOperation>();
        SyntaxNode? unscale = null;
        foreach (var operation in operations)
        {
            if (operation is not IInvocationOperation || !events.TryGetValue(operation.Syntax, out var kind) || !IsInGraph(operation, root))
            {
                continue;
            }

            switch (kind)
            {
                case ScalerEvent.ScaledBackward:
                    backwards.Add(operation);
                    break;
                case ScalerEvent.Update:
                    updates.Add(operation);
                    break;
                case ScalerEvent.Step:
                    steps.Add(operation);
                    break;
                case ScalerEvent.Unscale when unscale is null || unscale == operation.Syntax:
                    unscale = operation.Syntax;
                    break;
                case ScalerEvent.Unscale:
                    return false;
            }
        }

        foreach (var step in steps)
        {
            if (!IsGuarded(step, root, backwards, readsFiniteness))
            {
                return false;
            }
        }

        if (updates.Count == 0)
        {
            return true;
        }

        foreach (var backward in backwards)
        {
            if (!Reaches(root, backward))
            {
                continue;
            }

            foreach (var update in updates)
            {
                if (ReachesFrom(backward, update))
                {
                    updatedAfterBackward = true;
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// True if the sequence is settled with every step unchecked: nothing in the body reads a finiteness
    /// result (no branch of the graph is a guard), at most one unscale call, every Update a statement of a
    /// block, and every step reached from a reached backward along the straight path between them, which no
    /// Update statement interrupts. Then <paramref name="uncheckedSteps"/> are the steps, in source order,
    /// and <paramref name="updatedAfterBackward"/> is settled as by <see cref="TrySettle"/>.
    /// </summary>
    /// <remarks>
    /// The graph also branches where the tree has no condition: a foreach calls MoveNext. A collection
    /// whose type is declared in the compilation (its MoveNext might check finiteness) is left to the graph.
    /// </remarks>
    public static bool TrySettleUnchecked(
        IOperation root, IReadOnlyList<IOperation> operations, IReadOnlyDictionary<SyntaxNode, ScalerEvent> events,
        System.Func<IOperation, bool> readsFiniteness, out List<SyntaxNode> uncheckedSteps, out bool updatedAfterBackward)
    {
        uncheckedSteps = [];
        updatedAfterBackward = false;
        if (readsFiniteness(root))
        {
            return false;
        }

        var backwards = new List<IOperation>();
        var updates = new List<IOperation>();
        var steps = new List<IOperation>();
        SyntaxNode? unscale = null;
        foreach (var operation in operations)
        {
            if (operation is IForEachLoopOperation loop && LowPrecision.Unwrap(loop.Collection)?.Type is not { DeclaringSyntaxReferences.Length: 0 })
            {
                return false;
            }

            if (operation is not IInvocationOperation || !events.TryGetValue(operation.Syntax, out var kind) || !IsInGraph(operation, root))
            {
                continue;
            }

            switch (kind)
            {
                case ScalerEvent.ScaledBackward:
                    if (Reaches(root, operation))
                    {
                        backwards.Add(operation);
                    }

                    break;
                case ScalerEvent.Update when operation.Parent is IExpressionStatementOperation { Parent: IBlockOperation }:
                    updates.Add(operation);
                    break;
                case ScalerEvent.Update:
                    return false;
                case ScalerEvent.Step:
                    steps.Add(operation);
                    break;
                case ScalerEvent.Unscale when unscale is null || unscale == operation.Syntax:
                    unscale = operation.Syntax;
                    break;
                case ScalerEvent.Unscale:
                    return false;
            }
        }

        foreach (var step in steps)
        {
            if (!IsReachedUnchecked(step, backwards, updates))
            {
                return false;
            }

            uncheckedSteps.Add(step.Syntax);
        }

        foreach (var backward in backwards)
        {
            foreach (var update in updates)
            {
                if (ReachesFrom(backward, update))
                {
                    updatedAfterBackward = true;
                    return true;
                }
            }
        }

        // No Update is reached from a backward: settled only when there is none.
        return updates.Count == 0;
    }

    /// <summary>
    /// A backward reaches the step along the straight path ReachesFrom follows, whose statements are the
    /// ones between the two calls in source order: no Update statement may lie there.
    /// </summary>
    private static bool IsReachedUnchecked(IOperation step, List<IOperation> backwards, List<IOperation> updates)
    {
        foreach (var backward in backwards)
        {
            if (!ReachesFrom(backward, step))
            {
                continue;
            }

            var interrupted = false;
            foreach (var update in updates)
            {
                interrupted |= update.Syntax.SpanStart >= backward.Syntax.Span.End && update.Syntax.SpanStart < step.Syntax.SpanStart;
            }

            if (!interrupted)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>In the graph of <paramref name="root"/>: below it, not inside a lambda or local function.</summary>
    private static bool IsInGraph(IOperation operation, IOperation root)
    {
        for (var current = operation.Parent; current is not null; current = current.Parent)
        {
            if (current == root)
            {
                return true;
            }

            if (current is IAnonymousFunctionOperation or ILocalFunctionOperation)
            {
                return false;
            }
        }

        return false;
    }

    /// <summary>Inside a branch of an <c>if</c> on a finiteness result, with no backward in that branch.</summary>
    private static bool IsGuarded(IOperation step, IOperation root, List<IOperation> backwards, System.Func<IOperation, bool> readsFiniteness)
    {
        for (IOperation? current = step; current is not null && current != root; current = current.Parent)
        {
            if (current.Parent is IConditionalOperation { Syntax: IfStatementSyntax } branch &&
                current != branch.Condition &&
                IsSimpleCondition(branch.Condition) && readsFiniteness(branch.Condition) &&
                !backwards.Exists(b => current.Syntax.Span.Contains(b.Syntax.Span)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A condition the graph tests in one branch, as written: no short-circuit, conditional, lambda or pattern.</summary>
    private static bool IsSimpleCondition(IOperation condition)
    {
        if (condition.ConstantValue.HasValue)
        {
            return false;
        }

        foreach (var operation in condition.DescendantsAndSelf())
        {
            switch (operation)
            {
                case IBinaryOperation { OperatorKind: BinaryOperatorKind.ConditionalAnd or BinaryOperatorKind.ConditionalOr }:
                case IConditionalOperation or ICoalesceOperation or IConditionalAccessOperation or IAnonymousFunctionOperation:
                case ISwitchExpressionOperation or IIsPatternOperation or IThrowOperation or ICoalesceAssignmentOperation:
                    return false;
            }
        }

        return true;
    }

    /// <summary>True if control can reach <paramref name="target"/> from the start of <paramref name="statement"/>, which contains it.</summary>
    private static bool Reaches(IOperation statement, IOperation target)
    {
        switch (statement)
        {
            case IMethodBodyOperation { BlockBody: { } body } when Contains(body, target):
                return Reaches(body, target);
            case IConstructorBodyOperation { BlockBody: { } body } when Contains(body, target):
                return Reaches(body, target);
            case IBlockOperation block:
                foreach (var child in block.Operations)
                {
                    if (Contains(child, target))
                    {
                        return Reaches(child, target);
                    }

                    if (!CanComplete(child))
                    {
                        return false;
                    }
                }

                return false;
            case IConditionalOperation { Syntax: IfStatementSyntax } branch when !branch.Condition.ConstantValue.HasValue:
                return Contains(branch.WhenTrue, target) ? Reaches(branch.WhenTrue, target)
                    : branch.WhenFalse is { } whenFalse && Contains(whenFalse, target) && Reaches(whenFalse, target);
            case IForEachLoopOperation loop when Contains(loop.Body, target):
                return Reaches(loop.Body, target);
            case IWhileLoopOperation loop when Contains(loop.Body, target) && !IsConstantFalse(loop.Condition):
                return Reaches(loop.Body, target);
            case IForLoopOperation loop when Contains(loop.Body, target) && !IsConstantFalse(loop.Condition):
                return Reaches(loop.Body, target);
            case IUsingOperation @using when Contains(@using.Body, target):
                return Reaches(@using.Body, target);
            case ILockOperation @lock when Contains(@lock.Body, target):
                return Reaches(@lock.Body, target);
            case IExpressionStatementOperation or IVariableDeclarationGroupOperation or IUsingDeclarationOperation:
                return IsEvaluated(target, statement);
            default:
                return false;
        }
    }

    /// <summary>
    /// True if control can reach <paramref name="update"/> after <paramref name="backward"/>: the statement of
    /// the backward completes, and so does every statement from there to the one holding the update, in the
    /// innermost block that holds both (the update after the backward in it).
    /// </summary>
    private static bool ReachesFrom(IOperation backward, IOperation update)
    {
        var statement = StatementOf(backward);
        if (statement is not (IExpressionStatementOperation or IVariableDeclarationGroupOperation or IUsingDeclarationOperation) ||
            !IsEvaluated(backward, statement))
        {
            return false;
        }

        // Up from the backward's statement to the innermost block holding the update: each level completes.
        var current = statement;
        while (current.Parent is { } parent && !(parent is IBlockOperation && Contains(parent, update)))
        {
            if (!CompletesAfter(parent, current))
            {
                return false;
            }

            current = parent;
        }

        if (current.Parent is not IBlockOperation common)
        {
            return false;
        }

        var started = false;
        foreach (var child in common.Operations)
        {
            if (child == current)
            {
                started = true;
                continue;
            }

            if (!started)
            {
                continue;
            }

            if (Contains(child, update))
            {
                return Reaches(child, update);
            }

            if (!CanComplete(child))
            {
                return false;
            }
        }

        return false;
    }

    /// <summary>True if <paramref name="parent"/> can complete normally once its part <paramref name="child"/> has.</summary>
    private static bool CompletesAfter(IOperation parent, IOperation child) => parent switch
    {
        IBlockOperation block => RestCompletes(block, child),
        IConditionalOperation { Syntax: IfStatementSyntax } branch => child != branch.Condition,
        IForEachLoopOperation loop => child == loop.Body,
        IWhileLoopOperation { ConditionIsTop: true, Condition: { } condition } loop => child == loop.Body && !condition.ConstantValue.HasValue,
        IForLoopOperation { Condition: { } condition } loop => child == loop.Body && !condition.ConstantValue.HasValue,
        IUsingOperation @using => child == @using.Body,
        ILockOperation @lock => child == @lock.Body,
        _ => false,
    };

    /// <summary>True if every statement of the block after <paramref name="statement"/> can complete normally.</summary>
    private static bool RestCompletes(IBlockOperation block, IOperation statement)
    {
        var after = false;
        foreach (var child in block.Operations)
        {
            if (after && !CanComplete(child))
            {
                return false;
            }

            after |= child == statement;
        }

        return after;
    }

    /// <summary>A conservative "can complete normally": false for jumps and for statements not followed here.</summary>
    private static bool CanComplete(IOperation statement) => statement switch
    {
        IExpressionStatementOperation expression => expression.Operation is not IThrowOperation,
        IVariableDeclarationGroupOperation or IUsingDeclarationOperation or IEmptyOperation or ILocalFunctionOperation => true,
        IBlockOperation block => AllComplete(block),
        IConditionalOperation { Syntax: IfStatementSyntax } branch => !branch.Condition.ConstantValue.HasValue &&
            (branch.WhenFalse is null || CanComplete(branch.WhenTrue) || CanComplete(branch.WhenFalse)),
        IForEachLoopOperation => true,
        IWhileLoopOperation { Condition: { } condition } => !condition.ConstantValue.HasValue,
        IForLoopOperation { Condition: { } condition } => !condition.ConstantValue.HasValue,
        IUsingOperation @using => CanComplete(@using.Body),
        ILockOperation @lock => CanComplete(@lock.Body),
        _ => false,
    };

    private static bool AllComplete(IBlockOperation block)
    {
        foreach (var child in block.Operations)
        {
            if (!CanComplete(child))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>True if evaluating <paramref name="statement"/> always evaluates <paramref name="operation"/>: no conditional part or function between them.</summary>
    private static bool IsEvaluated(IOperation operation, IOperation statement)
    {
        for (var current = operation.Parent; current is not null && current != statement; current = current.Parent)
        {
            switch (current)
            {
                case IBinaryOperation { OperatorKind: BinaryOperatorKind.ConditionalAnd or BinaryOperatorKind.ConditionalOr }:
                case IConditionalOperation or ICoalesceOperation or IConditionalAccessOperation or ICoalesceAssignmentOperation:
                case IAnonymousFunctionOperation or ILocalFunctionOperation or ISwitchExpressionOperation or IIsPatternOperation:
                    return false;
            }
        }

        return true;
    }

    /// <summary>The statement of a block (or the body of an if, loop, using or lock) that holds the operation.</summary>
    private static IOperation StatementOf(IOperation operation)
    {
        var current = operation;
        while (current.Parent is { } parent && parent is not (IBlockOperation or ILoopOperation or IUsingOperation or ILockOperation) &&
            !(parent is IConditionalOperation { Syntax: IfStatementSyntax } branch && current != branch.Condition))
        {
            current = parent;
        }

        return current;
    }

    private static bool IsConstantFalse(IOperation? condition) => condition?.ConstantValue is { HasValue: true, Value: false };

    private static bool Contains(IOperation outer, IOperation inner)
    {
        for (IOperation? current = inner; current is not null; current = current.Parent)
        {
            if (current == outer)
            {
                return true;
            }
        }

        return false;
    }
}
