using System.Linq;
using System;
using PrecisionPolicy.Casting;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Scaling;
using static TorchSharp.torch;

namespace PrecisionPolicy.Interop;

/// <summary>
/// A mixed-precision policy in this runtime's terms, as read from (and written to) the vocabularies
/// users bring: DeepSpeed's <c>fp16</c>/<c>bf16</c> sections (<see cref="DeepSpeedPrecision"/>),
/// FSDP's <c>MixedPrecision</c> (<see cref="FsdpMixedPrecision"/>) and jmp policy strings
/// (<see cref="JmpPolicy"/>). A null dtype means the source did not set it and the runtime's
/// behaviour applies.
/// </summary>
/// <param name="Precision">Compute precision: the dtype working weights are stored and GEMMs run in.</param>
public sealed record TrainingPrecision(Precision Precision)
{
    /// <summary>The compute dtype of <see cref="Precision"/>.</summary>
    public ScalarType ComputeDtype => AutocastDtypes.ComputeDtype(Precision);

    /// <summary>
    /// The dtype the optimizer steps the parameters in: float32 (the FP32 masters DeepSpeed, FSDP and
    /// this runtime keep). A 16-bit value is pure low-precision training (jmp's <c>half</c>), which
    /// <see cref="MasterWeightOptimizer"/> does not do: it keeps FP32 masters regardless.
    /// </summary>
    public ScalarType ParamDtype { get; init; } = ScalarType.Float32;

    /// <summary>The dtype of the model's outputs (jmp's <c>output</c>); null: the runtime's float32 out of the outermost policy module.</summary>
    public ScalarType? OutputDtype { get; init; }

    /// <summary>
    /// The dtype gradients are reduced across ranks in (DeepSpeed's <c>communication_data_type</c>, FSDP's
    /// <c>reduce_dtype</c>): the same setting as <c>[Autocast(ReduceDtype = ...)]</c>.
    /// <see cref="AutocastReduce.Compute"/> (the default) when the source leaves it to the gradients' own
    /// dtype; <see cref="Distributed.DataParallel.ReduceDtypeOf"/> gives the dtype it stands for.
    /// </summary>
    public AutocastReduce ReduceDtype { get; init; }

    /// <summary>The dtype of module buffers (FSDP's <c>buffer_dtype</c>); null: buffers keep theirs (norm statistics stay float32 in this runtime).</summary>
    public ScalarType? BufferDtype { get; init; }

    /// <summary>Loss scaling: the source's settings, or this runtime's default for <see cref="Precision"/>.</summary>
    public LossScalerOptions Scaling { get; init; } = LossScalerOptions.For(Precision);

    // The precisions a dtype name in a foreign format can stand for; FP8 has no such name (its
    // storage dtype is BF16), so it is left out rather than mapped.
    private static readonly Precision[] Named = Enum.GetValues<Precision>().Where(p => p != Precision.FP8).ToArray();

    /// <summary>The precision whose compute dtype is <paramref name="dtype"/>, or an error naming <paramref name="field"/>.</summary>
    internal static Precision PrecisionOf(ScalarType dtype, string format, string field) =>
        Named.Where(p => AutocastDtypes.ComputeDtype(p) == dtype).Select(p => (Precision?)p).FirstOrDefault()
        ?? throw new PolicyFormatException(format, field, $"{dtype} is not a training precision here: use float32, bfloat16 or float16.");

    /// <summary>The explicit reduce setting of a dtype read from a foreign format, or an error naming <paramref name="field"/>.</summary>
    internal static AutocastReduce ReduceOf(ScalarType dtype, string format, string field) => dtype switch
    {
        ScalarType.Float32 => AutocastReduce.Float32,
        ScalarType.BFloat16 => AutocastReduce.BFloat16,
        ScalarType.Float16 => AutocastReduce.Float16,
        _ => throw new PolicyFormatException(format, field, $"{dtype} is not a reduce dtype here: use float32, bfloat16 or float16."),
    };

    /// <summary>
    /// The dtype an explicit reduce setting names; null for <see cref="AutocastReduce.Compute"/>, which
    /// foreign formats express by leaving the field unset. An undefined value is an error naming <paramref name="field"/>.
    /// </summary>
    internal static ScalarType? ExplicitReduceDtype(AutocastReduce reduce, string format, string field) =>
        reduce == AutocastReduce.Compute ? null
        : Enum.IsDefined(reduce) ? Distributed.DataParallel.ReduceDtypeOf(reduce, Precision.FP32)
        : throw new PolicyFormatException(format, field, $"{reduce} is not an AutocastReduce value.");

    /// <summary>An error naming <paramref name="field"/> unless <paramref name="dtype"/> is float32, bfloat16 or float16.</summary>
    internal static ScalarType RequireFloating(ScalarType dtype, string format, string field)
    {
        PrecisionOf(dtype, format, field);
        return dtype;
    }
}
