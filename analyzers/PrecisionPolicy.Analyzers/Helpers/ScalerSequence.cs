using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace PrecisionPolicy.Analyzers.Helpers;

/// <summary>What one call does to a hand-driven loss scaler's per-step sequence.</summary>
internal enum ScalerEvent
{
    /// <summary>A backward of a loss this scaler scaled: a new step begins.</summary>
    ScaledBackward,

    /// <summary>Divides the gradients by the scale.</summary>
    Unscale,

    /// <summary>An optimizer step that needs a finiteness check before it.</summary>
    Step,

    /// <summary>The scaler's own step, which skips on inf/NaN gradients itself.</summary>
    CheckedStep,

    /// <summary>Records the step's outcome: the step ends.</summary>
    Update,
}

/// <summary>
/// A forward data flow analysis over a method's control flow graph that follows one scaler's sequence
/// along every path: after a scaled backward, which unscale calls may already have run (a second,
/// different one before the next Update is unscaling twice), whether a branch on a finiteness result
/// lies on every path to a step (a must-fact: once the two arms of such an <c>if</c> meet again, what
/// follows is not guarded), and whether any Update can follow a backward. Events are the calls of the original
/// operation tree, matched to the graph's operations by syntax node.
/// </summary>
internal sealed class ScalerSequence
{
    private readonly ControlFlowGraph graph;
    private readonly IReadOnlyDictionary<SyntaxNode, ScalerEvent> events;
    private readonly System.Func<IOperation, bool> readsFiniteness;
    private readonly CancellationToken cancellationToken;

    public ScalerSequence(
        ControlFlowGraph graph, IReadOnlyDictionary<SyntaxNode, ScalerEvent> events, System.Func<IOperation, bool> readsFiniteness,
        CancellationToken cancellationToken)
    {
        this.graph = graph;
        this.events = events;
        this.readsFiniteness = readsFiniteness;
        this.cancellationToken = cancellationToken;
        Run();
    }

    /// <summary>Unscale calls that can run after a different unscale call of the same step.</summary>
    public List<SyntaxNode> SecondUnscales { get; } = [];

    /// <summary>Optimizer steps after a scaled backward on a path with no branch on a finiteness result.</summary>
    public List<SyntaxNode> UncheckedSteps { get; } = [];

    /// <summary>True if some Update can run after a scaled backward.</summary>
    public bool UpdatedAfterBackward { get; private set; }

    private void Run()
    {
        var blocks = graph.Blocks;
        var entry = new State?[blocks.Length];
        entry[0] = State.Start;
        var work = new Queue<int>();
        var queued = new bool[blocks.Length];
        work.Enqueue(0);
        queued[0] = true;
        while (work.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var ordinal = work.Dequeue();
            queued[ordinal] = false;
            var block = blocks[ordinal];
            var exit = Transfer(block, entry[ordinal]!, report: false);
            foreach (var (successor, conditional) in Successors(block))
            {
                var incoming = block.BranchValue is { } condition && readsFiniteness(condition) ? exit.Guarded(ordinal, conditional) : exit;
                var merged = entry[successor.Ordinal] is { } known ? known.Merge(incoming) : incoming;
                if (entry[successor.Ordinal] is not { } previous || !previous.SameAs(merged))
                {
                    entry[successor.Ordinal] = merged;
                    if (!queued[successor.Ordinal])
                    {
                        work.Enqueue(successor.Ordinal);
                        queued[successor.Ordinal] = true;
                    }
                }
            }
        }

        // Reports from the fixed point only: intermediate states hold partial facts.
        for (var i = 0; i < blocks.Length; i++)
        {
            if (entry[i] is { } state)
            {
                Transfer(blocks[i], state, report: true);
            }
        }
    }

    private static IEnumerable<(BasicBlock Block, bool Conditional)> Successors(BasicBlock block)
    {
        if (block.ConditionalSuccessor?.Destination is { } taken)
        {
            yield return (taken, true);
        }

        if (block.FallThroughSuccessor?.Destination is { } next)
        {
            yield return (next, false);
        }
    }

    private State Transfer(BasicBlock block, State state, bool report)
    {
        var operations = block.BranchValue is null ? block.Operations : block.Operations.Add(block.BranchValue);
        foreach (var root in operations)
        {
            foreach (var operation in root.DescendantsAndSelf())
            {
                if (operation is not IInvocationOperation || !events.TryGetValue(operation.Syntax, out var kind))
                {
                    continue;
                }

                switch (kind)
                {
                    case ScalerEvent.ScaledBackward:
                        state = new State(afterBackward: true, ImmutableHashSet<SyntaxNode>.Empty, ImmutableHashSet<(int, bool)>.Empty);
                        break;
                    case ScalerEvent.Unscale:
                        if (report && state.Unscaled.Any(u => u != operation.Syntax) && !SecondUnscales.Contains(operation.Syntax))
                        {
                            SecondUnscales.Add(operation.Syntax);
                        }

                        state = new State(state.AfterBackward, state.Unscaled.Add(operation.Syntax), state.Guards);
                        break;
                    case ScalerEvent.Step:
                        if (report && state.AfterBackward && state.Guards.IsEmpty && !UncheckedSteps.Contains(operation.Syntax))
                        {
                            UncheckedSteps.Add(operation.Syntax);
                        }

                        break;
                    case ScalerEvent.Update:
                        UpdatedAfterBackward |= report && state.AfterBackward;
                        state = new State(afterBackward: false, ImmutableHashSet<SyntaxNode>.Empty, state.Guards);
                        break;
                }
            }
        }

        return state;
    }

    /// <summary>
    /// The facts at one program point: a backward may have run since the last Update; the unscale calls
    /// that may have run since; the finiteness branches (block, edge) that lie on every path here.
    /// </summary>
    private sealed class State(bool afterBackward, ImmutableHashSet<SyntaxNode> unscaled, ImmutableHashSet<(int Block, bool Edge)> guards)
    {
        public static readonly State Start = new(afterBackward: false, ImmutableHashSet<SyntaxNode>.Empty, ImmutableHashSet<(int, bool)>.Empty);

        public bool AfterBackward { get; } = afterBackward;

        public ImmutableHashSet<SyntaxNode> Unscaled { get; } = unscaled;

        public ImmutableHashSet<(int Block, bool Edge)> Guards { get; } = guards;

        public State Guarded(int block, bool edge) => new(AfterBackward, Unscaled, Guards.Add((block, edge)));

        /// <summary>May-facts join by union, the guards (a must-fact) by intersection.</summary>
        public State Merge(State other) =>
            new(AfterBackward || other.AfterBackward, Unscaled.Union(other.Unscaled), Guards.Intersect(other.Guards));

        public bool SameAs(State other) =>
            AfterBackward == other.AfterBackward && Unscaled.SetEquals(other.Unscaled) && Guards.SetEquals(other.Guards);
    }
}
