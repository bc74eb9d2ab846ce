using PrecisionPolicy.Catalog;
using PrecisionPolicy.Generators.Helpers;

namespace PrecisionPolicy.Generators.Model;

/// <summary>Everything the emitter needs for one generated file: a policy class or a method region.</summary>
/// <remarks>Must stay immutable and structurally equatable: it is an incremental-pipeline value.</remarks>
internal sealed record PolicySpec
{
    /// <summary>{Namespace}.{Type}[.{Method}].Precision.g.cs</summary>
    public string HintName { get; init; } = "";

    /// <summary>Namespace of the annotated type; empty for the global namespace.</summary>
    public string Namespace { get; init; } = "";

    /// <summary>Simple name of the annotated type (or of the type holding the annotated method).</summary>
    public string TypeName { get; init; } = "";

    /// <summary>The type as the generated code names it: global::Ns.Outer.Type.</summary>
    public string FullTypeName { get; init; } = "";

    /// <summary>Partial declarations of the types that contain the annotated type, outermost first.</summary>
    public EquatableArray<ContainingTypeSpec> ContainingTypes { get; init; } = EquatableArray<ContainingTypeSpec>.Empty;

    /// <summary>True for an [Autocast] module class: the per-class plumbing is emitted.</summary>
    public bool EmitPlumbing { get; init; }

    /// <summary>The class's (or method's) compute precision.</summary>
    public Precision Precision { get; init; }

    /// <summary>Members kept in float32 by [HighPrecision] (their registered component names).</summary>
    public EquatableArray<string> HighPrecisionMembers { get; init; } = EquatableArray<string>.Empty;

    /// <summary>[LossScaling] as written; null without the attribute (the precision's default applies at run time).</summary>
    public LossScalingSpec? Scaling { get; init; }

    /// <summary>FP8 classes: [Fp8Recipe] as written (empty without the attribute); null for other precisions.</summary>
    public Fp8RecipeSpec? Fp8Recipe { get; init; }

    /// <summary>[Autocast(OutputDtype = ...)] as written: the AutocastOutput member name; null when not set.</summary>
    public string? OutputDtype { get; init; }

    /// <summary>[Autocast(LowPrecisionEmbeddings = ...)] as written; null when not set.</summary>
    public bool? LowPrecisionEmbeddings { get; init; }

    /// <summary>[Autocast(ReduceDtype = ...)] as written: the AutocastReduce member name; null when not set.</summary>
    public string? ReduceDtype { get; init; }

    /// <summary>True when the compilation has PrecisionPolicy.Optimization.MasterWeightOptimizer.</summary>
    public bool HasMasterWeightOptimizer { get; init; }

    /// <summary>
    /// The input parameter names of the typed TrainStep/AccumulateStep, one per input of a Module&lt;Tensor × n,
    /// Tensor&gt; (n = 1 to 6); empty when the module has another signature (no TrainStep is emitted).
    /// </summary>
    public EquatableArray<string> TrainStepInputs { get; init; } = EquatableArray<string>.Empty;

    /// <summary>The interceptors of the call sites inside the region.</summary>
    public EquatableArray<InterceptorSpec> Interceptors { get; init; } = EquatableArray<InterceptorSpec>.Empty;
}

/// <summary>A containing type to redeclare as partial around a nested annotated type.</summary>
/// <remarks>Must stay immutable and structurally equatable.</remarks>
internal sealed record ContainingTypeSpec(string Keyword, string Name);

/// <summary>
/// The [LossScaling] settings the user wrote: a null member was not set, and generated code leaves it
/// to the runtime's default (LossScalerOptions).
/// </summary>
/// <remarks>Must stay immutable and structurally equatable.</remarks>
internal sealed record LossScalingSpec
{
    public LossScalingMode Mode { get; init; } = LossScalingMode.Dynamic;
    public double? InitialScale { get; init; }
    public double? StaticScale { get; init; }
    public double? GrowthFactor { get; init; }
    public double? BackoffFactor { get; init; }
    public int? GrowthInterval { get; init; }
    public int? Hysteresis { get; init; }
    public double? MinScale { get; init; }
    public double? MaxScale { get; init; }
}

/// <summary>The [Fp8Recipe] settings the user wrote; a null member is left to the runtime's default (Fp8Recipe).</summary>
/// <remarks>Must stay immutable and structurally equatable.</remarks>
internal sealed record Fp8RecipeSpec
{
    public Fp8Format? ForwardFormat { get; init; }
    public Fp8Format? BackwardFormat { get; init; }
    public int? Margin { get; init; }
    public int? AmaxHistoryLength { get; init; }
    public Fp8Scaling? Scaling { get; init; }
}
