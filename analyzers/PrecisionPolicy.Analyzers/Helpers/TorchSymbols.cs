using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using Microsoft.CodeAnalysis;
using PrecisionPolicy.Catalog;

namespace PrecisionPolicy.Analyzers.Helpers;

/// <summary>
/// The TorchSharp and PrecisionPolicy types the rules look for, resolved once per compilation and
/// shared by every rule (each metadata-name lookup searches all the references the first time).
/// </summary>
internal sealed class TorchSymbols
{
    // Lazy: every rule asks at its compilation start, often at the same time on several threads, and a
    // table's factory alone would run the lookups once per asking thread.
    private static readonly ConditionalWeakTable<Compilation, Lazy<TorchSymbols?>> Instances = new();

    // The norm layer types of the catalogue's module rows.
    private readonly HashSet<ISymbol> normLayers;

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
        Autocast = compilation.GetTypeByMetadataName("PrecisionPolicy.AutocastAttribute");
        HighPrecision = compilation.GetTypeByMetadataName("PrecisionPolicy.HighPrecisionAttribute");
        LossScaling = compilation.GetTypeByMetadataName("PrecisionPolicy.LossScalingAttribute");
        OptimizerState = compilation.GetTypeByMetadataName("PrecisionPolicy.OptimizerStateAttribute");
        GradientAccumulator = compilation.GetTypeByMetadataName("PrecisionPolicy.GradientAccumulatorAttribute");
        Fp8Recipe = compilation.GetTypeByMetadataName("PrecisionPolicy.Fp8RecipeAttribute");
        MasterWeightOptimizer = compilation.GetTypeByMetadataName("PrecisionPolicy.Optimization.MasterWeightOptimizer");
        LossScaler = compilation.GetTypeByMetadataName("PrecisionPolicy.Scaling.LossScaler");
        normLayers = new HashSet<ISymbol>(
            CastCatalog.ModulesOf(ModuleFamily.Normalization).Select(row => torchSharp.GetTypeByMetadataName(row.TypeName)).OfType<INamedTypeSymbol>(),
            SymbolEqualityComparer.Default);
    }

    public INamedTypeSymbol Torch { get; }
    public INamedTypeSymbol? Tensor { get; }
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
    public INamedTypeSymbol? Fp8Recipe { get; }
    public INamedTypeSymbol? MasterWeightOptimizer { get; }
    public INamedTypeSymbol? LossScaler { get; }

    /// <summary>True for a norm layer type of the catalogue's module rows or a type derived from one (one walk up the bases, one set lookup per base).</summary>
    public bool IsNormLayer(ITypeSymbol? type)
    {
        for (var t = type; t is not null; t = t.BaseType)
        {
            if (normLayers.Contains(t.OriginalDefinition))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Null unless the compilation references TorchSharp: every rule is silent then. One instance per compilation.</summary>
    public static TorchSymbols? TryCreate(Compilation compilation) =>
        Instances.GetValue(compilation, static c => new Lazy<TorchSymbols?>(
            () => c.GetTypeByMetadataName("TorchSharp.torch") is { } torch ? new TorchSymbols(c, torch) : null,
            LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    public bool IsTensor(ITypeSymbol? type) => Derives(type, Tensor);

    public bool IsModule(ITypeSymbol? type) => Derives(type, Module);

    public bool IsOptimizerClass(ITypeSymbol? type) => Derives(type, Optimizer) || Derives(type, OptimizerHelper);

    /// <summary><c>torch.optim.Adam(...)</c>, <c>torch.optim.SGD(...)</c>, ...: factories returning an optimizer.</summary>
    public bool IsOptimizerFactory(Microsoft.CodeAnalysis.Operations.IInvocationOperation invocation) =>
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
            if (SymbolEqualityComparer.Default.Equals(t, Torch))
            {
                return true;
            }
        }

        return false;
    }

    public static bool Derives(ITypeSymbol? type, INamedTypeSymbol? baseType)
    {
        if (baseType is null)
        {
            return false;
        }

        for (var t = type; t is not null; t = t.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(t.OriginalDefinition, baseType))
            {
                return true;
            }
        }

        return false;
    }

    public static bool HasAttribute(ISymbol symbol, INamedTypeSymbol? attribute) =>
        FindAttribute(symbol, attribute) is not null;

    public static AttributeData? FindAttribute(ISymbol symbol, INamedTypeSymbol? attribute)
    {
        if (attribute is null)
        {
            return null;
        }

        foreach (var data in symbol.GetAttributes())
        {
            if (SymbolEqualityComparer.Default.Equals(data.AttributeClass, attribute))
            {
                return data;
            }
        }

        return null;
    }
}
