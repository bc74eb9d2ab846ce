// The enums users write in attributes. Public in the runtime (namespace PrecisionPolicy); the
// generator and the analyzers compile this same file as an internal copy (namespace
// PrecisionPolicy.Catalog, linked by catalog/PrecisionPolicy.Catalog.projitems), so
// member names and values are the same everywhere: the Roslyn components read attribute arguments
// as these values and the generator emits their names.
#if PRECISIONPOLICY_RUNTIME
namespace PrecisionPolicy;
#else
namespace PrecisionPolicy.Catalog;
#endif

/// <summary>The compute precision of an <c>[Autocast]</c> region.</summary>
#if PRECISIONPOLICY_RUNTIME
public
#else
internal
#endif
enum Precision
{
    /// <summary>Everything in float32: the reference run.</summary>
    FP32,
    /// <summary>bfloat16 compute: FP32 range, 8-bit mantissa; normally needs no loss scaling.</summary>
    BF16,
    /// <summary>float16 compute: max 65504, needs loss scaling (dynamic by default).</summary>
    FP16,
    /// <summary>FP8 hybrid: E4M3 forward operands, E5M2 gradients, each tensor with its own scale.</summary>
    FP8,
}

/// <summary>How the loss is scaled before backward.</summary>
#if PRECISIONPOLICY_RUNTIME
public
#else
internal
#endif
enum LossScalingMode
{
    /// <summary>PyTorch GradScaler semantics: grow after clean steps, back off on inf/NaN.</summary>
    Dynamic,
    /// <summary>A fixed scale (<c>[LossScaling(LossScalingMode.Static, StaticScale = ...)]</c>).</summary>
    Static,
    /// <summary>No scaling (scale 1). The right choice for BF16 and FP32; unsafe for FP16.</summary>
    Off,
}

/// <summary>An 8-bit floating-point format.</summary>
#if PRECISIONPOLICY_RUNTIME
public
#else
internal
#endif
enum Fp8Format
{
    /// <summary>4 exponent bits, 3 mantissa bits, max 448, no infinities: forward operands.</summary>
    E4M3,
    /// <summary>5 exponent bits, 2 mantissa bits, max 57344: gradients.</summary>
    E5M2,
}

/// <summary>How an FP8 tensor's scale is chosen.</summary>
#if PRECISIONPOLICY_RUNTIME
public
#else
internal
#endif
enum Fp8Scaling
{
    /// <summary>From the amax history of earlier steps (TransformerEngine's DelayedScaling).</summary>
    Delayed,
    /// <summary>From this tensor's own amax (one extra reduction per cast).</summary>
    Current,
}

/// <summary>
/// How the amax a delayed scale is computed from is taken from the amax history
/// (TransformerEngine <c>DelayedScaling.amax_compute_algo</c>).
/// </summary>
#if PRECISIONPOLICY_RUNTIME
public
#else
internal
#endif
enum Fp8AmaxCompute
{
    /// <summary>The maximum over the whole history ("max", TransformerEngine's default).</summary>
    Max,
    /// <summary>The amax of the step that just ended ("most_recent").</summary>
    MostRecent,
}
