using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace PrecisionPolicy.Analyzers.Helpers;

/// <summary>Small queries over <see cref="IOperation"/> trees shared by the rules.</summary>
internal static class Operations
{
    /// <summary>The operation kinds <see cref="Assignments"/> understands.</summary>
    public static readonly OperationKind[] AssignmentKinds =
    [
        OperationKind.SimpleAssignment,
        OperationKind.VariableDeclarator,
        OperationKind.FieldInitializer,
        OperationKind.PropertyInitializer,
    ];

    /// <summary>The variables an assignment, declarator or member initializer stores into, with the stored value.</summary>
    /// <remarks>Asked of every operation of a body by several rules: a struct, so that asking allocates nothing.</remarks>
    public static AssignmentTargets Assignments(IOperation operation) => operation switch
    {
        ISimpleAssignmentOperation assignment when ReferencedSymbol(assignment.Target) is { } target => new(target, [], assignment.Value),
        IVariableDeclaratorOperation declarator when declarator.GetVariableInitializer() is { Value: { } value } => new(declarator.Symbol, [], value),
        IFieldInitializerOperation fieldInitializer => new(null, ImmutableArray<ISymbol>.CastUp(fieldInitializer.InitializedFields), fieldInitializer.Value),
        IPropertyInitializerOperation propertyInitializer => new(null, ImmutableArray<ISymbol>.CastUp(propertyInitializer.InitializedProperties), propertyInitializer.Value),
        _ => default,
    };

    /// <summary>The local, parameter, field or (non-indexer) property an expression names, or null.</summary>
    public static ISymbol? ReferencedSymbol(IOperation? operation) => LowPrecision.Unwrap(operation) switch
    {
        ILocalReferenceOperation local => local.Local,
        IParameterReferenceOperation parameter => parameter.Parameter,
        IFieldReferenceOperation field => field.Field,
        IPropertyReferenceOperation { Arguments.Length: 0 } property => property.Property,
        _ => null,
    };

    public static ITypeSymbol? TypeOf(ISymbol symbol) => symbol switch
    {
        ILocalSymbol local => local.Type,
        IParameterSymbol parameter => parameter.Type,
        IFieldSymbol field => field.Type,
        IPropertySymbol property => property.Type,
        _ => null,
    };

    /// <summary>True if a numeric constant is at or below <paramref name="limit"/> and positive.</summary>
    public static bool IsPositiveConstantAtMost(IOperation? operation, double limit, out double value)
    {
        value = 0;
        var constant = LowPrecision.Unwrap(operation)?.ConstantValue;
        if (constant is not { HasValue: true, Value: { } raw } || raw is bool || raw is string || raw is char)
        {
            return false;
        }

        try
        {
            value = System.Convert.ToDouble(raw, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (System.InvalidCastException)
        {
            return false;
        }

        return value > 0 && value <= limit;
    }

    /// <summary>True if the operation is inside a call or construction of a MasterWeightOptimizer.</summary>
    public static bool IsInsideMasterWeightOptimizer(IOperation operation, TorchSymbols symbols)
    {
        for (var current = operation.Parent; current is not null; current = current.Parent)
        {
            switch (current)
            {
                case IObjectCreationOperation creation when symbols.IsMasterWeightOptimizer(creation.Type):
                    return true;
                case IInvocationOperation invocation when
                    invocation.TargetMethod.Name == "CreateMixedPrecisionOptimizer" ||
                    symbols.IsMasterWeightOptimizer(invocation.TargetMethod.ContainingType) ||
                    symbols.IsMasterWeightOptimizer(invocation.Type):
                    return true;
            }
        }

        return false;
    }
}

/// <summary>The targets of one assignment, declarator or member initializer, each with the stored value; enumerable without allocating.</summary>
internal readonly struct AssignmentTargets(ISymbol? single, ImmutableArray<ISymbol> several, IOperation? value)
{
    public Enumerator GetEnumerator() => new(single, several, value);

    public struct Enumerator(ISymbol? single, ImmutableArray<ISymbol> several, IOperation? value)
    {
        private int index = -1;

        public readonly (ISymbol Target, IOperation Value) Current => (single ?? several[index], value!);

        public bool MoveNext() => value is not null && ++index < (single is not null ? 1 : several.IsDefault ? 0 : several.Length);
    }
}
