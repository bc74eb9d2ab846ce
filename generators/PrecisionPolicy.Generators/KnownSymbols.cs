using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;
using PrecisionPolicy.Catalog;

namespace PrecisionPolicy.Generators;

/// <summary>
/// The TorchSharp and PrecisionPolicy symbols the parser compares against, resolved once per
/// compilation (as System.Text.Json's KnownTypeSymbols): types are compared with
/// <see cref="SymbolEqualityComparer"/>, never by display string. Used only inside the parse step;
/// nothing here reaches a spec.
/// </summary>
internal sealed class KnownSymbols
{
    // Weak: a compilation and its symbols go away with the compilation. The parse transform of every
    // [Autocast] target of one compilation shares one instance without combining the pipeline with
    // the compilation (which would rerun every target on every edit).
    private static readonly ConditionalWeakTable<Compilation, KnownSymbols> Cache = new();

    private readonly Dictionary<INamedTypeSymbol, OpContainers> containers = new(SymbolEqualityComparer.Default);
    private readonly Dictionary<INamedTypeSymbol, ModuleRow> modules = new(SymbolEqualityComparer.Default);
    private readonly HashSet<INamedTypeSymbol> tensorSequences = new(SymbolEqualityComparer.Default);
    private readonly HashSet<INamedTypeSymbol> genericModules = new(SymbolEqualityComparer.Default);

    public static KnownSymbols For(Compilation compilation) => Cache.GetValue(compilation, static c => new KnownSymbols(c));

    private KnownSymbols(Compilation compilation)
    {
        Module = compilation.GetTypeByMetadataName("TorchSharp.torch+nn+Module");
        for (var arity = 2; arity <= 7; arity++)
        {
            if (compilation.GetTypeByMetadataName("TorchSharp.torch+nn+Module`" + arity.ToString(System.Globalization.CultureInfo.InvariantCulture)) is { } generic)
                genericModules.Add(generic);
        }
        Tensor = compilation.GetTypeByMetadataName("TorchSharp.torch+Tensor");
        ScalarType = compilation.GetTypeByMetadataName("TorchSharp.torch+ScalarType");
        Autocast = compilation.GetTypeByMetadataName(AutocastGenerator.AutocastAttributeName);
        HighPrecision = compilation.GetTypeByMetadataName("PrecisionPolicy.HighPrecisionAttribute");
        LossScaling = compilation.GetTypeByMetadataName("PrecisionPolicy.LossScalingAttribute");
        Fp8RecipeAttribute = compilation.GetTypeByMetadataName("PrecisionPolicy.Fp8RecipeAttribute");
        HasMasterWeightOptimizer = compilation.GetTypeByMetadataName("PrecisionPolicy.Optimization.MasterWeightOptimizer") is not null;
        HasFp8Runtime = compilation.GetTypeByMetadataName(AutocastGenerator.CompilerServicesNamespace + ".Fp8Autocast") is not null
            && compilation.GetTypeByMetadataName("PrecisionPolicy.Fp8.Fp8Context") is not null
            && compilation.GetTypeByMetadataName("PrecisionPolicy.Fp8.Fp8Recipe") is not null;

        foreach (var container in CastCatalog.Containers)
        {
            if (compilation.GetTypeByMetadataName(CastCatalog.MetadataName(container)) is { } type) containers[type] = container;
        }
        foreach (var row in ModuleRows.All)
        {
            if (compilation.GetTypeByMetadataName(row.TypeName) is { } type) modules[type] = row;
        }
        foreach (var special in new[]
        {
            SpecialType.System_Collections_Generic_IList_T, SpecialType.System_Collections_Generic_IEnumerable_T,
            SpecialType.System_Collections_Generic_IReadOnlyList_T, SpecialType.System_Collections_Generic_ICollection_T,
            SpecialType.System_Collections_Generic_IReadOnlyCollection_T,
        })
            tensorSequences.Add(compilation.GetSpecialType(special));
        if (compilation.GetTypeByMetadataName("System.ReadOnlySpan`1") is { } span) tensorSequences.Add(span);
    }

    /// <summary>TorchSharp.torch.nn.Module.</summary>
    public INamedTypeSymbol? Module { get; }

    /// <summary>
    /// The number of inputs of the first <c>Module&lt;Tensor × n, Tensor&gt;</c> (n = 1 to 6) <paramref name="type"/>
    /// derives from, or 0 when its first generic Module base has a non-tensor input or result (or there is none).
    /// </summary>
    public int TensorInputCount(INamedTypeSymbol type)
    {
        for (var t = type.BaseType; t is not null; t = t.BaseType)
        {
            if (!t.IsGenericType || !genericModules.Contains(t.OriginalDefinition)) continue;
            return t.TypeArguments.All(IsTensor) ? t.TypeArguments.Length - 1 : 0;
        }
        return 0;
    }

    public INamedTypeSymbol? Tensor { get; }

    public INamedTypeSymbol? ScalarType { get; }

    public INamedTypeSymbol? Autocast { get; }

    public INamedTypeSymbol? HighPrecision { get; }

    public INamedTypeSymbol? LossScaling { get; }

    public INamedTypeSymbol? Fp8RecipeAttribute { get; }

    public bool HasMasterWeightOptimizer { get; }

    /// <summary>True when the compilation has Fp8Autocast, Fp8Context and Fp8Recipe.</summary>
    public bool HasFp8Runtime { get; }

    public bool IsTensor(ITypeSymbol? type) => Tensor is not null && SymbolEqualityComparer.Default.Equals(type, Tensor);

    /// <summary>A one-dimensional array, list, collection, enumerable or span of tensors.</summary>
    public bool IsTensorSequence(ITypeSymbol type)
    {
        if (type is IArrayTypeSymbol { Rank: 1 } array) return IsTensor(array.ElementType);
        return type is INamedTypeSymbol { IsGenericType: true, TypeArguments.Length: 1 } named
            && IsTensor(named.TypeArguments[0]) && tensorSequences.Contains(named.OriginalDefinition);
    }

    public bool IsScalarType(ITypeSymbol type) => ScalarType is not null && SymbolEqualityComparer.Default.Equals(type, ScalarType);

    public bool IsModule(INamedTypeSymbol? type) => DerivesFrom(type, Module);

    /// <summary>A call of <c>call</c> or <c>forward</c> on a module instance.</summary>
    public bool IsModuleCall(IMethodSymbol method) =>
        !method.IsStatic && method.Name is "call" or "forward" && IsModule(method.ContainingType);

    /// <summary>The catalogue row of a method (its container and name), if any.</summary>
    public OpMatch? FindOp(IMethodSymbol method) =>
        method.ContainingType is { } type && containers.TryGetValue(type, out var container) && CastCatalog.FindOp(container, method.Name) is { } row
            ? new OpMatch(row, container)
            : null;

    /// <summary>The module row of a type or of its nearest catalogued base type.</summary>
    public ModuleRow? FindModuleRow(INamedTypeSymbol type)
    {
        for (var t = type; t is not null; t = t.BaseType)
        {
            if (modules.TryGetValue(t, out var row)) return row;
        }
        return null;
    }

    public static bool DerivesFrom(INamedTypeSymbol? type, INamedTypeSymbol? baseType)
    {
        if (baseType is null) return false;
        for (var t = type; t is not null; t = t.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(t.OriginalDefinition, baseType)) return true;
        }
        return false;
    }

    public static AttributeData? FindAttribute(ISymbol? symbol, INamedTypeSymbol? attribute)
    {
        if (symbol is null || attribute is null) return null;
        foreach (var data in symbol.GetAttributes())
        {
            if (SymbolEqualityComparer.Default.Equals(data.AttributeClass, attribute)) return data;
        }
        return null;
    }

    public static bool HasAttribute(ISymbol? symbol, INamedTypeSymbol? attribute) => FindAttribute(symbol, attribute) is not null;
}

/// <summary>An op row and the container a method was found in.</summary>
internal sealed class OpMatch
{
    public OpMatch(OpRow row, OpContainers container)
    {
        Row = row;
        Container = container;
    }

    public OpRow Row { get; }

    public OpContainers Container { get; }

    /// <summary>The row name for comments and messages ("functional.softmax").</summary>
    public string RowName => CastCatalog.RowName(Container, Row.Op);
}
