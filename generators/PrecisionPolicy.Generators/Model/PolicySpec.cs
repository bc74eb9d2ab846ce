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

    /// <summary>Name of the Precision member (FP32, BF16, FP16, FP8).</summary>
    public string Precision { get; init; } = "FP32";

    /// <summary>Members kept in float32 by [HighPrecision] (their registered component names).</summary>
    public EquatableArray<string> HighPrecisionMembers { get; init; } = EquatableArray<string>.Empty;

    /// <summary>Loss scaling of the generated optimizer.</summary>
    public LossScalingSpec Scaling { get; init; } = new();

    /// <summary>FP8 classes: the recipe from [Fp8Recipe] (or TransformerEngine's defaults).</summary>
    public Fp8RecipeSpec? Fp8Recipe { get; init; }

    /// <summary>True when the compilation has PrecisionPolicy.MasterWeightOptimizer.</summary>
    public bool HasMasterWeightOptimizer { get; init; }

    /// <summary>True when the module is a Module&lt;Tensor, Tensor&gt; (a typed TrainStep is emitted).</summary>
    public bool IsTensorToTensorModule { get; init; }

    /// <summary>The interceptors of the call sites inside the region.</summary>
    public EquatableArray<InterceptorSpec> Interceptors { get; init; } = EquatableArray<InterceptorSpec>.Empty;
}

/// <summary>A containing type to redeclare as partial around a nested annotated type.</summary>
/// <remarks>Must stay immutable and structurally equatable.</remarks>
internal sealed record ContainingTypeSpec(string Keyword, string Name);

/// <summary>The loss-scaling settings from [LossScaling], or the precision's default.</summary>
/// <remarks>Must stay immutable and structurally equatable.</remarks>
internal sealed record LossScalingSpec
{
    /// <summary>True when [LossScaling] is present; otherwise the precision's default applies.</summary>
    public bool Explicit { get; init; }

    /// <summary>Dynamic, Static or Off.</summary>
    public string Mode { get; init; } = "Off";

    public double InitialScale { get; init; } = 65536.0;
    public double StaticScale { get; init; } = 1.0;
    public double GrowthFactor { get; init; } = 2.0;
    public double BackoffFactor { get; init; } = 0.5;
    public int GrowthInterval { get; init; } = 2000;
    public int Hysteresis { get; init; } = 1;
    /// <summary>Set only when the attribute names it: the runtime's default (no floor) applies otherwise.</summary>
    public double? MinScale { get; init; }
    /// <summary>Set only when the attribute names it: the runtime's default (no ceiling) applies otherwise.</summary>
    public double? MaxScale { get; init; }
}

/// <summary>The [Fp8Recipe] settings as enum member names and numbers.</summary>
/// <remarks>Must stay immutable and structurally equatable.</remarks>
internal sealed record Fp8RecipeSpec(string ForwardFormat, string BackwardFormat, int Margin, int AmaxHistoryLength, string Scaling);
