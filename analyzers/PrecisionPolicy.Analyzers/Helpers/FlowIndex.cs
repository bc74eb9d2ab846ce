using System.Collections.Generic;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace PrecisionPolicy.Analyzers.Helpers;

/// <summary>
/// The writes of one operation tree (a method body, a field initializer), found in one walk: what
/// each variable is assigned, what is stored into each collection's elements, which collection a
/// foreach variable or a LINQ lambda parameter walks, and what the body returns.
/// </summary>
/// <remarks>
/// An in-place module cast (<c>model.half();</c>) counts as a write of the module: TorchSharp
/// converts the module's parameters and returns the same object.
/// </remarks>
internal sealed class FlowIndex
{
    // LINQ and List methods whose lambda's first parameter is an element of the receiver.
    private static readonly HashSet<string> ElementLambdaMethods =
        ["Select", "SelectMany", "Where", "ForEach", "All", "Any", "First", "FirstOrDefault", "Single", "Aggregate", "Sum", "Max", "Min"];

    private readonly Dictionary<ISymbol, List<IOperation>> writes = new(SymbolEqualityComparer.Default);
    private readonly Dictionary<ISymbol, List<IOperation>> elementWrites = new(SymbolEqualityComparer.Default);
    private readonly Dictionary<ISymbol, IOperation> iterated = new(SymbolEqualityComparer.Default);

    public FlowIndex(IOperation root, TorchSymbols symbols, CancellationToken cancellationToken)
    {
        Root = root;
        foreach (var operation in root.DescendantsAndSelf())
        {
            cancellationToken.ThrowIfCancellationRequested();
            Index(operation, symbols);
        }
    }

    public IOperation Root { get; }

    /// <summary>Return values of the body itself (not of its lambdas or local functions).</summary>
    public List<IOperation> Returns { get; } = [];

    public IReadOnlyList<IOperation> WritesOf(ISymbol symbol) =>
        writes.TryGetValue(symbol, out var list) ? list : [];

    public IReadOnlyList<IOperation> ElementWritesOf(ISymbol symbol) =>
        elementWrites.TryGetValue(symbol, out var list) ? list : [];

    /// <summary>The collection a foreach variable or lambda parameter takes its values from.</summary>
    public IOperation? CollectionOf(ISymbol symbol) => iterated.TryGetValue(symbol, out var collection) ? collection : null;

    public bool IsWritten(ISymbol symbol) => writes.ContainsKey(symbol) || iterated.ContainsKey(symbol);

    private void Index(IOperation operation, TorchSymbols symbols)
    {
        foreach (var (target, value) in Operations.Assignments(operation))
        {
            Add(writes, target, value);
        }

        switch (operation)
        {
            case ICompoundAssignmentOperation compound when Operations.ReferencedSymbol(compound.Target) is { } target:
                Add(writes, target, compound);
                break;
            case ISimpleAssignmentOperation { Target: IArrayElementReferenceOperation element } assignment
                when Operations.ReferencedSymbol(element.ArrayReference) is { } array:
                Add(elementWrites, array, assignment.Value);
                break;
            case ISimpleAssignmentOperation { Target: IPropertyReferenceOperation { Arguments.Length: > 0, Instance: { } instance } } assignment
                when !symbols.IsTensor(instance.Type) && Operations.ReferencedSymbol(instance) is { } list:
                Add(elementWrites, list, assignment.Value);
                break;
            case IInvocationOperation { TargetMethod.Name: "Add" or "Insert" or "Push" or "Enqueue", Arguments.Length: > 0 } add
                when Operations.ReferencedSymbol(add.Instance) is { } collection:
                Add(elementWrites, collection, add.Arguments[add.Arguments.Length - 1].Value);
                break;
            case IInvocationOperation invocation when invocation.Parent is IExpressionStatementOperation &&
                LowPrecision.IsDtypeCast(invocation, symbols, out _) &&
                LowPrecision.Receiver(invocation) is { } receiver && symbols.IsModule(receiver.Type) &&
                Operations.ReferencedSymbol(receiver) is { } module:
                Add(writes, module, invocation);
                break;
            case IForEachLoopOperation { LoopControlVariable: IVariableDeclaratorOperation declarator } loop:
                iterated[declarator.Symbol] = loop.Collection;
                break;
            case IInvocationOperation linq when ElementLambdaMethods.Contains(linq.TargetMethod.Name):
                IndexLambdaParameters(linq);
                break;
            case IReturnOperation { ReturnedValue: { } returned } when IsOwnReturn(operation):
                Returns.Add(returned);
                break;
        }
    }

    private void IndexLambdaParameters(IInvocationOperation linq)
    {
        var source = LowPrecision.Receiver(linq);
        if (source is null)
        {
            return;
        }

        foreach (var argument in linq.Arguments)
        {
            if (LowPrecision.Unwrap(argument.Value) is IDelegateCreationOperation { Target: IAnonymousFunctionOperation lambda } &&
                lambda.Symbol.Parameters.Length > 0)
            {
                iterated[lambda.Symbol.Parameters[0]] = source;
            }
        }
    }

    private bool IsOwnReturn(IOperation operation)
    {
        for (var current = operation.Parent; current is not null && current != Root; current = current.Parent)
        {
            if (current is IAnonymousFunctionOperation or ILocalFunctionOperation)
            {
                return false;
            }
        }

        return true;
    }

    private static void Add(Dictionary<ISymbol, List<IOperation>> map, ISymbol key, IOperation value)
    {
        if (!map.TryGetValue(key, out var list))
        {
            map[key] = list = [];
        }

        list.Add(value);
    }
}
