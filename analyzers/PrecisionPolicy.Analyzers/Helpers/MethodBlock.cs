using System.Collections.Generic;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace PrecisionPolicy.Analyzers.Helpers;

/// <summary>
/// One analyzed body (the operation blocks of a method, accessor or initializer): its operations in
/// source order, lambdas and local functions included, the names of the methods it calls and the
/// properties it reads, and the objects it creates. Built once per body and shared by every rule with
/// an operation block action (the compiler hands each rule the same operation tree), so a rule first
/// asks for the names its pattern needs and returns, before any flow analysis, from the many bodies
/// that have none of them.
/// </summary>
internal sealed class MethodBlock
{
    private static readonly ConditionalWeakTable<IOperation, MethodBlock> Cache = new();

    private static readonly MethodBlock Empty = new([], CancellationToken.None);

    // Children to visit, innermost last; one per thread, reused: a walk never runs inside another.
    [System.ThreadStatic]
    private static List<IOperation>? pending;

    // The names as the walk meets them (repeats included), one list per thread, reused.
    [System.ThreadStatic]
    private static List<string>? met;

    private readonly HashSet<string> names;
    private readonly List<IObjectCreationOperation> creations = [];
    private readonly ImmutableArray<IOperation> blocks;
    private int count;
    private IOperation[]? operations;

    private MethodBlock(ImmutableArray<IOperation> blocks, CancellationToken cancellationToken)
    {
        this.blocks = blocks;
        var stack = pending ??= [];
        var seen = met ??= [];
        seen.Clear();
        foreach (var block in blocks)
        {
            stack.Clear();
            stack.Add(block);
            while (Next(stack) is { } operation)
            {
                cancellationToken.ThrowIfCancellationRequested();
                count++;
                switch (operation)
                {
                    case IInvocationOperation invocation:
                        seen.Add(invocation.TargetMethod.Name);
                        break;
                    case IPropertyReferenceOperation property:
                        seen.Add(property.Property.Name);
                        break;
                    case IObjectCreationOperation creation:
                        creations.Add(creation);
                        break;
                }
            }
        }

        // From a collection the set is sized once (on .NET; the API to size it directly is not in netstandard2.0).
        names = new HashSet<string>(seen, System.StringComparer.Ordinal);
    }

    /// <summary>
    /// Every operation of the body in source order, collected and sorted on first use: most bodies never
    /// get past the name checks, and a second walk of the few that do costs less than keeping every body's list.
    /// </summary>
    public IReadOnlyList<IOperation> Operations => Volatile.Read(ref operations) ?? LazyInitializer.EnsureInitialized(ref operations, SortBySource)!;

    /// <summary>The object creations of the body (lambdas included), in walk order.</summary>
    public IReadOnlyList<IObjectCreationOperation> Creations => creations;

    public static MethodBlock Of(OperationBlockAnalysisContext context)
    {
        if (context.OperationBlocks.IsEmpty)
        {
            return Empty;
        }

        // The lookup first, and the creating lambda in another method: its closure would be allocated on every call.
        return Cache.TryGetValue(context.OperationBlocks[0], out var known) ? known : Create(context);
    }

    private static MethodBlock Create(OperationBlockAnalysisContext context) =>
        Cache.GetValue(context.OperationBlocks[0], _ => new MethodBlock(context.OperationBlocks, context.CancellationToken));

    /// <summary>True if the body calls a method or reads a property of this name (any type).</summary>
    public bool Mentions(string name) => names.Contains(name);

    /// <summary>
    /// The next operation of a pre-order walk (what <c>DescendantsAndSelf</c> yields, in its order) whose
    /// pending children are <paramref name="stack"/>: a list, not an iterator per level (Roslyn's walk keeps a
    /// builder of enumerators), and not recursion (a long chain of binary operators would exhaust the stack).
    /// </summary>
    private static IOperation? Next(List<IOperation> stack)
    {
        if (stack.Count == 0)
        {
            return null;
        }

        var operation = stack[stack.Count - 1];
        stack.RemoveAt(stack.Count - 1);
        foreach (var child in operation.ChildOperations.Reverse())
        {
            stack.Add(child);
        }

        return operation;
    }

    // A stable sort by start position: on equal starts the parent (walked first) stays before its children.
    // The walk repeats the constructor's over the same immutable trees (so it yields `count` operations); it
    // checks no cancellation token: the block is shared by rules whose tokens may differ, and the walk is short.
    private IOperation[] SortBySource()
    {
        var sorted = new IOperation[count];
        var next = 0;
        var stack = pending ??= [];
        foreach (var block in blocks)
        {
            stack.Clear();
            stack.Add(block);
            while (Next(stack) is { } operation)
            {
                sorted[next++] = operation;
            }
        }

        var keys = new long[sorted.Length];
        for (var i = 0; i < sorted.Length; i++)
        {
            keys[i] = ((long)sorted[i].Syntax.SpanStart << 32) | (uint)i;
        }

        System.Array.Sort(keys, sorted);
        return sorted;
    }
}
