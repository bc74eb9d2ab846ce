using System.Collections.Generic;
using System.Collections.Immutable;
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
    private static readonly OnceTable<IOperation, MethodBlock> Cache = new();

    // The names the rules ask about, one bit each: the walk records which of them the body uses instead
    // of a set of every name it uses (a set per body, most of it never asked about).
    private static readonly Dictionary<string, ulong> Watched = WatchList(
        "backward", "Backward", "step", "grad", "clip_grad_norm_", "clip_grad_value_", "set_default_dtype",
        "CreateMixedPrecisionOptimizer", "ApplyPrecisionPolicy", "AttachScheduler");

    private static readonly MethodBlock Empty = new([], CancellationToken.None);

    private readonly ulong mentioned;
    private readonly List<IObjectCreationOperation> creations = [];
    private readonly ImmutableArray<IOperation> blocks;
    private int count;
    private IOperation[]? operations;

    private MethodBlock(ImmutableArray<IOperation> blocks, CancellationToken cancellationToken)
    {
        this.blocks = blocks;
        foreach (var block in blocks)
        {
            foreach (var operation in block.DescendantsAndSelf())
            {
                cancellationToken.ThrowIfCancellationRequested();
                count++;
                switch (operation)
                {
                    case IInvocationOperation invocation:
                        mentioned |= Watched.TryGetValue(invocation.TargetMethod.Name, out var method) ? method : 0;
                        break;
                    case IPropertyReferenceOperation property:
                        mentioned |= Watched.TryGetValue(property.Property.Name, out var read) ? read : 0;
                        break;
                    case IObjectCreationOperation creation:
                        creations.Add(creation);
                        break;
                }
            }
        }
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

        // Every rule with an operation block action asks for the same body, often at the same time: it is walked once.
        return Cache.Get(context.OperationBlocks[0], context, static (_, c) => new MethodBlock(c.OperationBlocks, c.CancellationToken));
    }

    /// <summary>True if the body calls a method or reads a property of this name (any type).</summary>
    /// <remarks>A name off the watch list is looked for by walking the body again.</remarks>
    public bool Mentions(string name) =>
        Watched.TryGetValue(name, out var bit) ? (mentioned & bit) != 0 : Walks(name);

    private bool Walks(string name)
    {
        foreach (var block in blocks)
        {
            foreach (var operation in block.DescendantsAndSelf())
            {
                if (operation is IInvocationOperation { TargetMethod.Name: var method } && method == name ||
                    operation is IPropertyReferenceOperation { Property.Name: var property } && property == name)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static Dictionary<string, ulong> WatchList(params string[] names)
    {
        var watched = new Dictionary<string, ulong>(System.StringComparer.Ordinal);
        foreach (var name in names)
        {
            watched[name] = 1UL << watched.Count;
        }

        // What scales the loss, per scaler shape (LossScalerMisused asks for it).
        foreach (var shape in ScalerShape.Known)
        {
            if (!watched.ContainsKey(shape.ScaleMember))
            {
                watched[shape.ScaleMember] = 1UL << watched.Count;
            }
        }

        return watched;
    }

    // A stable sort by start position: on equal starts the parent (walked first) stays before its children.
    // The walk repeats the constructor's over the same immutable trees (so it yields `count` operations); it
    // checks no cancellation token: the block is shared by rules whose tokens may differ, and the walk is short.
    private IOperation[] SortBySource()
    {
        var sorted = new IOperation[count];
        var next = 0;
        foreach (var block in blocks)
        {
            foreach (var operation in block.DescendantsAndSelf())
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
