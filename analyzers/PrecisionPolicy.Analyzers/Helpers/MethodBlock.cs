using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace PrecisionPolicy.Analyzers.Helpers;

/// <summary>
/// One analyzed body (the operation blocks of a method, accessor or initializer): its operations in
/// source order, lambdas and local functions included, and the names of the methods it calls and the
/// properties it reads. Walked once per body and shared by every rule with an operation block action
/// (the compiler hands each rule the same operation tree), so a rule first asks for the names its
/// pattern needs and returns, before any flow analysis, from the many bodies that have none of them.
/// </summary>
internal sealed class MethodBlock
{
    private static readonly ConditionalWeakTable<IOperation, MethodBlock> Cache = new();

    private static readonly MethodBlock Empty = new([], CancellationToken.None);

    private readonly HashSet<string> names = new(System.StringComparer.Ordinal);
    private readonly ImmutableArray<IOperation> blocks;
    private readonly CancellationToken cancellationToken;
    private List<IOperation>? operations;

    private MethodBlock(ImmutableArray<IOperation> blocks, CancellationToken cancellationToken)
    {
        this.blocks = blocks;
        this.cancellationToken = cancellationToken;
        foreach (var block in blocks)
        {
            foreach (var operation in block.DescendantsAndSelf())
            {
                cancellationToken.ThrowIfCancellationRequested();
                switch (operation)
                {
                    case IInvocationOperation invocation:
                        names.Add(invocation.TargetMethod.Name);
                        break;
                    case IPropertyReferenceOperation property:
                        names.Add(property.Property.Name);
                        break;
                }
            }
        }
    }

    /// <summary>Every operation of the body in source order, listed on first use (most bodies never get past the name checks).</summary>
    public IReadOnlyList<IOperation> Operations => LazyInitializer.EnsureInitialized(ref operations, Flatten)!;

    public static MethodBlock Of(OperationBlockAnalysisContext context) =>
        context.OperationBlocks.IsEmpty
            ? Empty
            : Cache.GetValue(context.OperationBlocks[0], _ => new MethodBlock(context.OperationBlocks, context.CancellationToken));

    /// <summary>True if the body calls a method or reads a property of this name (any type).</summary>
    public bool Mentions(string name) => names.Contains(name);

    /// <summary>True if the body calls a method or reads a property of one of these names.</summary>
    public bool MentionsAny(params string[] candidates) => candidates.Any(names.Contains);

    // A stable sort: on equal starts the parent (visited first) stays before its children.
    private List<IOperation> Flatten() => blocks
        .SelectMany(static b => b.DescendantsAndSelf())
        .Select(o =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            return o;
        })
        .OrderBy(static o => o.Syntax.SpanStart)
        .ToList();
}
