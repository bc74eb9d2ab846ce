using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Linq;
using PrecisionPolicy.Casting;
using PrecisionPolicy.Fp8;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Policy;
using PrecisionPolicy.Scaling;

namespace PrecisionPolicy.CompilerServices;

/// <summary>
/// The policy of one <see cref="AutocastAttribute"/> class as the generator read it: compute
/// precision, the members <see cref="HighPrecisionAttribute"/> keeps in float32, and loss scaling.
/// Generated code creates one per class; <see cref="ModulePolicy"/> and
/// <see cref="PrecisionManifest"/> read it at run time.
/// </summary>
/// <remarks>For generated code; not for direct use: its members may change in any release.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class PrecisionPlan
{
    private readonly HashSet<string> highPrecision;
    private readonly LossScalerOptions? explicitScaling;

    /// <summary>Creates a plan.</summary>
    /// <param name="moduleName">The annotated class's name.</param>
    /// <param name="precision">The precision declared by [Autocast].</param>
    /// <param name="highPrecisionMembers">Members marked [HighPrecision].</param>
    /// <param name="scaling">The [LossScaling] settings, or null for the precision's default.</param>
    /// <param name="fp8Recipe">FP8 classes: the [Fp8Recipe] recipe (null: TransformerEngine's defaults).</param>
    /// <param name="output">[Autocast(OutputDtype = ...)]: the dtype of the outermost policy module's floating outputs.</param>
    /// <param name="lowPrecisionEmbeddings">[Autocast(LowPrecisionEmbeddings = true)]: Embedding/EmbeddingBag tables stored in the compute dtype.</param>
    /// <param name="reduce">[Autocast(ReduceDtype = ...)]: the dtype gradients are summed across data-parallel ranks in.</param>
    public PrecisionPlan(
        string moduleName, Precision precision, IEnumerable<string> highPrecisionMembers, LossScalerOptions? scaling = null, Fp8Recipe? fp8Recipe = null,
        AutocastOutput output = AutocastOutput.Float32, bool lowPrecisionEmbeddings = false, AutocastReduce reduce = AutocastReduce.Compute)
    {
        Reduce = Enum.IsDefined(reduce) ? reduce : throw new ArgumentOutOfRangeException(nameof(reduce), reduce, "Not an AutocastReduce value.");
        LowPrecisionEmbeddings = lowPrecisionEmbeddings;
        Output = Enum.IsDefined(output) ? output : throw new ArgumentOutOfRangeException(nameof(output), output, "Not an AutocastOutput value.");
        Fp8Recipe = fp8Recipe ?? Fp8Recipe.Default;
        ModuleName = moduleName ?? throw new ArgumentNullException(nameof(moduleName));
        Precision = precision;
        highPrecision = new HashSet<string>(highPrecisionMembers ?? Array.Empty<string>(), StringComparer.Ordinal);
        explicitScaling = scaling;
    }

    /// <summary>The annotated class's name.</summary>
    public string ModuleName { get; }

    /// <summary>The precision declared by [Autocast].</summary>
    public Precision Precision { get; }

    /// <summary>The precision in force: <see cref="Precision"/> unless an <see cref="AutocastScope"/> overrides it on this thread.</summary>
    public Precision EffectivePrecision => AutocastScope.Effective(Precision);

    /// <summary>The dtype low-precision members are stored and computed in (of <see cref="EffectivePrecision"/>).</summary>
    public TorchSharp.torch.ScalarType ComputeDtype => AutocastDtypes.ComputeDtype(EffectivePrecision);

    /// <summary>The FP8 recipe (used when <see cref="EffectivePrecision"/> is FP8).</summary>
    public Fp8Recipe Fp8Recipe { get; }

    /// <summary>The dtype of floating outputs when this module is the outermost policy module of a call.</summary>
    public AutocastOutput Output { get; }

    /// <summary>True when Embedding and EmbeddingBag tables are stored in the compute dtype (a memory option); false: float32, as PyTorch autocast.</summary>
    public bool LowPrecisionEmbeddings { get; }

    /// <summary>The reduce dtype as declared by [Autocast(ReduceDtype = ...)].</summary>
    public AutocastReduce Reduce { get; }

    /// <summary>The dtype gradients are summed across ranks in: <see cref="Reduce"/> resolved against <see cref="EffectivePrecision"/>.</summary>
    public TorchSharp.torch.ScalarType ReduceDtype => Distributed.DataParallel.ReduceDtypeOf(Reduce, EffectivePrecision);

    /// <summary>Members marked [HighPrecision] (field or property names).</summary>
    public IReadOnlyCollection<string> HighPrecisionMembers => highPrecision;

    /// <summary>Loss scaling of the generated optimizer: [LossScaling], or the default of <see cref="EffectivePrecision"/>.</summary>
    public LossScalerOptions Scaling => explicitScaling ?? LossScalerOptions.For(EffectivePrecision);

    /// <summary>
    /// <paramref name="options"/> as the generated <c>CreateMixedPrecisionOptimizer</c> passes them on: a null
    /// <see cref="MasterWeightOptions.Scaling"/> becomes <see cref="Scaling"/>; under data parallelism a null reduce dtype
    /// becomes <see cref="ReduceDtype"/>, and this policy joins what the ranks must agree on.
    /// </summary>
    public MasterWeightOptions OptimizerOptions(MasterWeightOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var resolved = options.Scaling is null ? options with { Scaling = Scaling } : options;
        return resolved.DataParallel is { } dp
            ? resolved with { DataParallel = dp with { ReduceDtype = dp.ReduceDtype ?? ReduceDtype, Policy = ToString() } }
            : resolved;
    }

    /// <summary>True when the registered child <paramref name="name"/> is a [HighPrecision] member.</summary>
    public bool IsHighPrecision(string name) =>
        highPrecision.Contains(name) || highPrecision.Contains(StripBackingField(name));

    private static string StripBackingField(string name) =>
        name.StartsWith('<') && name.IndexOf(">k__BackingField", StringComparison.Ordinal) is var end and > 0 ? name[1..end] : name;

    /// <inheritdoc/>
    public override string ToString() =>
        $"{ModuleName}: {Precision}, high precision: [{string.Join(", ", highPrecision.OrderBy(n => n, StringComparer.Ordinal))}], scaling: {Scaling.Mode}, output: {Output}, reduce: {Reduce}";
}

/// <summary>Implemented by every generated <see cref="AutocastAttribute"/> module class.</summary>
/// <remarks>For generated code; not for direct use: its members may change in any release.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IPrecisionPolicyModule
{
    /// <summary>The class's policy.</summary>
    PrecisionPlan PrecisionPlan { get; }
}
