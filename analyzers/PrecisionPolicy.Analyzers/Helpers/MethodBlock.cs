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
/// properties it reads, and the objects it creates. Walked once per body and shared by every rule with
/// an operation block action (the compiler hands each rule the same operation tree), so a rule first
/// asks for the names its pattern needs and returns, before any flow analysis, from the many bodies
/// that have none of them.
/// </summary>
internal sealed class MethodBlock
{
    private static readonly ConditionalWeakTable<IOperation, MethodBlock> Cache = new();

    private static readonly MethodBlock Empty = new([], CancellationToken.None);

    private readonly HashSet<string> names = new(System.StringComparer.Ordinal);
    private readonly List<IObjectCreationOperation> creations = [];

    // In walk order (parents before their children); sorted into source order on first use.
    private readonly List<IOperation> walked = [];
    private IOperation[]? operations;

    private MethodBlock(ImmutableArray<IOperation> blocks, CancellationToken cancellationToken)
    {
        foreach (var block in blocks)
        {
            foreach (var operation in block.DescendantsAndSelf())
            {
                cancellationToken.ThrowIfCancellationRequested();
                walked.Add(operation);
                switch (operation)
                {
                    case IInvocationOperation invocation:
                        names.Add(invocation.TargetMethod.Name);
                        break;
                    case IPropertyReferenceOperation property:
                        names.Add(property.Property.Name);
                        break;
                    case IObjectCreationOperation creation:
                        creations.Add(creation);
                        break;
                }
            }
        }
    }

    /// <summary>Every operation of the body in source order, sorted on first use (most bodies never get past the name checks).</summary>
    public IReadOnlyList<IOperation> Operations => LazyInitializer.EnsureInitialized(ref operations, SortBySource)!;

    /// <summary>The object creations of the body (lambdas included), in walk order.</summary>
    public IReadOnlyList<IObjectCreationOperation> Creations => creations;

    public static MethodBlock Of(OperationBlockAnalysisContext context) =>
        context.OperationBlocks.IsEmpty
            ? Empty
            : Cache.GetValue(context.OperationBlocks[0], _ => new MethodBlock(context.OperationBlocks, context.CancellationToken));

    /// <summary>True if the body calls a method or reads a property of this name (any type).</summary>
    public bool Mentions(string name) => names.Contains(name);

    /// <summary>True if the body calls a method or reads a property of one of these names.</summary>
    public bool MentionsAny(params string[] candidates)
    {
        foreach (var candidate in candidates)
        {
            if (names.Contains(candidate))
            {
                return true;
            }
        }

        return false;
    }

    // A stable sort by start position: on equal starts the parent (walked first) stays before its children.
    private IOperation[] SortBySource()
    {
        var sorted = walked.ToArray();
        var keys = new long[sorted.Length];
        for (var i = 0; i < sorted.Length; i++)
        {
            keys[i] = ((long)sorted[i].Syntax.SpanStart << 32) | (uint)i;
        }

        System.Array.Sort(keys, sorted);
        return sorted;
    }
}
