using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace PrecisionPolicy.Catalog;

/// <summary>
/// The TorchSharp and PrecisionPolicy types the generator and the analyzers compare against, and the catalogue's
/// rows bound to them, resolved once per compilation (as System.Text.Json's KnownTypeSymbols): types are compared
/// with <see cref="SymbolEqualityComparer"/>, never by display string. Every metadata name either tool looks for is
/// here, so the two cannot disagree about a type.
/// </summary>
/// <remarks>
/// A table is a pure function of one compilation: it is cached weakly by compilation, so every rule and every
/// generator transform of that compilation shares one, and nothing passes from one compilation to the next.
/// The generator uses it only inside its transforms: no symbol reaches a pipeline value.
/// </remarks>
internal sealed class TorchSymbols
{
    // Lazy: every rule asks at its compilation start, often at the same time on several threads, and a
    // table's factory alone would run the lookups once per asking thread.
    private static readonly ConditionalWeakTable<Compilation, Lazy<TorchSymbols?>> Instances = new();

    private readonly Dictionary<INamedTypeSymbol, OpContainers> opContainers = new(SymbolEqualityComparer.Default);
    private readonly Dictionary<INamedTypeSymbol, ModuleRow> moduleRows = new(SymbolEqualityComparer.Default);
    private readonly HashSet<INamedTypeSymbol> genericModules = new(SymbolEqualityComparer.Default);
    private readonly HashSet<INamedTypeSymbol> tensorSequences = new(SymbolEqualityComparer.Default);

    private TorchSymbols(Compilation compilation, INamedTypeSymbol torch)
    {
        // TorchSharp's types are looked up in TorchSharp's assembly: a compilation-wide lookup searches
        // every reference. PrecisionPolicy's types may come from the runtime or from source (tests, stand-ins).
        var torchSharp = torch.ContainingAssembly;
        Torch = torch;
        Tensor = torchSharp.GetTypeByMetadataName("TorchSharp.torch+Tensor");
        Module = torchSharp.GetTypeByMetadataName("TorchSharp.torch+nn+Module");
        Optim = torchSharp.GetTypeByMetadataName("TorchSharp.torch+optim");
        Optimizer = torchSharp.GetTypeByMetadataName("TorchSharp.torch+optim+Optimizer");
        OptimizerHelper = torchSharp.GetTypeByMetadataName("TorchSharp.Modules.OptimizerHelper");
        LRScheduler = torchSharp.GetTypeByMetadataName("TorchSharp.torch+optim+lr_scheduler+LRScheduler");
        NnUtils = torchSharp.GetTypeByMetadataName("TorchSharp.torch+nn+utils");
        ScalarType = torchSharp.GetTypeByMetadataName("TorchSharp.torch+ScalarType");
        NormBase = torchSharp.GetTypeByMetadataName("TorchSharp.Modules.NormBase");
        for (var arity = 2; arity <= 7; arity++)
        {
            if (torchSharp.GetTypeByMetadataName("TorchSharp.torch+nn+Module`" + arity.ToString(CultureInfo.InvariantCulture)) is { } generic)
                genericModules.Add(generic);
        }
        foreach (var container in CastCatalog.Containers)
        {
            if (torchSharp.GetTypeByMetadataName(CastCatalog.MetadataName(container)) is { } type) opContainers[type] = container;
        }
        foreach (var row in ModuleRows.All)
        {
            if (torchSharp.GetTypeByMetadataName(row.TypeName) is { } type) moduleRows[type] = row;
        }

        Autocast = compilation.GetTypeByMetadataName(PolicyTypeNames.AutocastAttribute);
        HighPrecision = compilation.GetTypeByMetadataName(PolicyTypeNames.HighPrecisionAttribute);
        LossScaling = compilation.GetTypeByMetadataName(PolicyTypeNames.LossScalingAttribute);
        OptimizerState = compilation.GetTypeByMetadataName(PolicyTypeNames.OptimizerStateAttribute);
        GradientAccumulator = compilation.GetTypeByMetadataName(PolicyTypeNames.GradientAccumulatorAttribute);
        Fp8Recipe = compilation.GetTypeByMetadataName(PolicyTypeNames.Fp8RecipeAttribute);
        MasterWeightOptimizer = compilation.GetTypeByMetadataName(PolicyTypeNames.MasterWeightOptimizer);
        LossScaler = compilation.GetTypeByMetadataName(PolicyTypeNames.LossScaler);
        HasFp8Runtime = compilation.GetTypeByMetadataName(PolicyTypeNames.Fp8Autocast) is not null
            && compilation.GetTypeByMetadataName(PolicyTypeNames.Fp8Context) is not null
            && compilation.GetTypeByMetadataName(PolicyTypeNames.Fp8RecipeClass) is not null;

        foreach (var special in new[]
        {
            SpecialType.System_Collections_Generic_IList_T, SpecialType.System_Collections_Generic_IEnumerable_T,
            SpecialType.System_Collections_Generic_IReadOnlyList_T, SpecialType.System_Collections_Generic_ICollection_T,
            SpecialType.System_Collections_Generic_IReadOnlyCollection_T,
        })
            tensorSequences.Add(compilation.GetSpecialType(special));
        if (compilation.GetTypeByMetadataName("System.ReadOnlySpan`1") is { } span) tensorSequences.Add(span);
    }

    /// <summary>The table of <paramref name="compilation"/>; null unless it references TorchSharp (every rule and the generator are silent then).</summary>
    public static TorchSymbols? TryCreate(Compilation compilation) =>
        Instances.GetValue(compilation, static c => new Lazy<TorchSymbols?>(
            () => c.GetTypeByMetadataName("TorchSharp.torch") is { } torch ? new TorchSymbols(c, torch) : null,
            LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    /// <summary>TorchSharp.torch.</summary>
    public INamedTypeSymbol Torch { get; }
    public INamedTypeSymbol? Tensor { get; }
    /// <summary>TorchSharp.torch.nn.Module (the non-generic base of every module).</summary>
    public INamedTypeSymbol? Module { get; }
    public INamedTypeSymbol? Optim { get; }
    public INamedTypeSymbol? Optimizer { get; }
    public INamedTypeSymbol? OptimizerHelper { get; }
    public INamedTypeSymbol? LRScheduler { get; }
    public INamedTypeSymbol? NnUtils { get; }
    public INamedTypeSymbol? ScalarType { get; }
    public INamedTypeSymbol? NormBase { get; }
    public INamedTypeSymbol? Autocast { get; }
    public INamedTypeSymbol? HighPrecision { get; }
    public INamedTypeSymbol? LossScaling { get; }
    public INamedTypeSymbol? OptimizerState { get; }
    public INamedTypeSymbol? GradientAccumulator { get; }
    /// <summary>The [Fp8Recipe] attribute.</summary>
    public INamedTypeSymbol? Fp8Recipe { get; }
    public INamedTypeSymbol? MasterWeightOptimizer { get; }
    public INamedTypeSymbol? LossScaler { get; }

    /// <summary>True when the compilation has the FP8 runtime (Fp8Autocast, Fp8Context and Fp8Recipe).</summary>
    public bool HasFp8Runtime { get; }

    /// <summary>A tensor: torch.Tensor or a type derived from it (a Parameter).</summary>
    public bool IsTensor(ITypeSymbol? type) => Derives(type, Tensor);

    /// <summary>torch.Tensor itself, not a type derived from it: the exact type an interceptor's signature names.</summary>
    public bool IsExactlyTensor(ITypeSymbol? type) => Tensor is not null && SymbolEqualityComparer.Default.Equals(type, Tensor);

    /// <summary>A one-dimensional array, list, collection, enumerable or span of torch.Tensor.</summary>
    public bool IsTensorSequence(ITypeSymbol type)
    {
        if (type is IArrayTypeSymbol { Rank: 1 } array) return IsExactlyTensor(array.ElementType);
        return type is INamedTypeSymbol { IsGenericType: true, TypeArguments.Length: 1 } named
            && IsExactlyTensor(named.TypeArguments[0]) && tensorSequences.Contains(named.OriginalDefinition);
    }

    public bool IsScalarType(ITypeSymbol? type) => ScalarType is not null && SymbolEqualityComparer.Default.Equals(type, ScalarType);

    public bool IsModule(ITypeSymbol? type) => Derives(type, Module);

    /// <summary>A call of <c>call</c> or <c>forward</c> on a module instance.</summary>
    public bool IsModuleCall(IMethodSymbol method) =>
        !method.IsStatic && method.Name is "call" or "forward" && IsModule(method.ContainingType);

    /// <summary>
    /// The number of inputs of the first <c>Module&lt;Tensor × n, Tensor&gt;</c> (n = 1 to 6) <paramref name="type"/>
    /// derives from, or 0 when its first generic Module base has a non-tensor input or result (or there is none).
    /// </summary>
    public int TensorInputCount(INamedTypeSymbol type)
    {
        for (var t = type.BaseType; t is not null; t = t.BaseType)
        {
            if (!t.IsGenericType || !genericModules.Contains(t.OriginalDefinition)) continue;
            return t.TypeArguments.All(IsExactlyTensor) ? t.TypeArguments.Length - 1 : 0;
        }
        return 0;
    }

    /// <summary>The catalogue row of a method (its container and name), if any.</summary>
    public OpMatch? FindOp(IMethodSymbol method) =>
        method.ContainingType is { } type && opContainers.TryGetValue(type, out var container) && CastCatalog.FindOp(container, method.Name) is { } row
            ? new OpMatch(row, container)
            : null;

    /// <summary>The module row of a type or of its nearest catalogued base type.</summary>
    public ModuleRow? FindModuleRow(ITypeSymbol? type)
    {
        for (var t = type as INamedTypeSymbol; t is not null; t = t.BaseType)
        {
            if (moduleRows.TryGetValue(t.OriginalDefinition, out var row)) return row;
        }
        return null;
    }

    /// <summary>True for a norm layer type of the catalogue's module rows or a type derived from one.</summary>
    public bool IsNormLayer(ITypeSymbol? type)
    {
        for (var t = type as INamedTypeSymbol; t is not null; t = t.BaseType)
        {
            if (moduleRows.TryGetValue(t.OriginalDefinition, out var row) && row.Family == ModuleFamily.Normalization) return true;
        }
        return false;
    }

    public bool IsOptimizerClass(ITypeSymbol? type) => Derives(type, Optimizer) || Derives(type, OptimizerHelper);

    /// <summary><c>torch.optim.Adam(...)</c>, <c>torch.optim.SGD(...)</c>, ...: factories returning an optimizer.</summary>
    public bool IsOptimizerFactory(IInvocationOperation invocation) =>
        SymbolEqualityComparer.Default.Equals(invocation.TargetMethod.ContainingType, Optim) &&
        IsOptimizerClass(invocation.TargetMethod.ReturnType);

    public bool IsScheduler(ITypeSymbol? type) => Derives(type, LRScheduler);

    public bool IsMasterWeightOptimizer(ITypeSymbol? type) => Derives(type, MasterWeightOptimizer);

    public bool IsLossScaler(ITypeSymbol? type) => Derives(type, LossScaler);

    /// <summary>True for torch and every type nested in it (torch.nn.functional, torch.special, ...).</summary>
    public bool IsInTorch(INamedTypeSymbol? type)
    {
        for (var t = type; t is not null; t = t.ContainingType)
        {
            if (SymbolEqualityComparer.Default.Equals(t, Torch)) return true;
        }
        return false;
    }

    /// <summary><paramref name="type"/> is <paramref name="baseType"/> (any construction of it) or derives from it.</summary>
    public static bool Derives(ITypeSymbol? type, INamedTypeSymbol? baseType)
    {
        if (baseType is null) return false;
        for (var t = type; t is not null; t = t.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(t.OriginalDefinition, baseType)) return true;
        }
        return false;
    }

    public static bool HasAttribute(ISymbol? symbol, INamedTypeSymbol? attribute) => FindAttribute(symbol, attribute) is not null;

    public static AttributeData? FindAttribute(ISymbol? symbol, INamedTypeSymbol? attribute)
    {
        if (symbol is null || attribute is null) return null;
        foreach (var data in symbol.GetAttributes())
        {
            if (SymbolEqualityComparer.Default.Equals(data.AttributeClass, attribute)) return data;
        }
        return null;
    }
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
