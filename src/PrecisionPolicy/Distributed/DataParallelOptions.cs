using System;
using PrecisionPolicy.Casting;
using PrecisionPolicy.Optimization;
using static TorchSharp.torch;

namespace PrecisionPolicy.Distributed;

/// <summary>
/// Data-parallel training of a <see cref="MasterWeightOptimizer"/> across the ranks of
/// <paramref name="Communicator"/> (<see cref="MasterWeightOptions.DataParallel"/>). Each step, every
/// rank's loss-scaled FP32 gradient is divided by the number of ranks (as PyTorch DDP does) and summed
/// over the ranks in <see cref="ReduceDtype"/>; the non-finite check and the clipping norm are global, so
/// every rank applies or skips the same step with the same scale. At creation every rank must hold the
/// same parameter list and settings (else every rank throws, naming the first difference), and the
/// masters of rank 0 are broadcast to all.
/// <para>
/// Clip with <see cref="MasterWeightOptions.MaxGradNorm"/>, which uses the global norm. Between <c>Backward</c> and
/// <c>Step</c> a rank holds only its own micro-batches' gradients, so TorchSharp's <c>nn.utils.clip_grad_norm_</c> there
/// could only clip by one rank's norm: the module's <c>.grad</c> are guarded (their first elements read +inf), and a
/// <c>Step</c> after any change to them is refused on every rank, naming <c>maxGradNorm</c>, with nothing stepped.
/// </para>
/// </summary>
/// <param name="Communicator">The ranks, e.g. <c>MpiCommunicator.World</c> of the <c>PrecisionPolicy.Mpi</c> package.</param>
public sealed record DataParallelOptions(ICommunicator Communicator)
{
    /// <summary>
    /// The dtype gradients travel and are summed in (DeepSpeed's <c>communication_data_type</c>, FSDP's
    /// <c>reduce_dtype</c>): float32, bfloat16 or float16. Null: the class's
    /// <c>[Autocast(ReduceDtype = ...)]</c> in the generated <c>CreateMixedPrecisionOptimizer</c>, float32
    /// when the optimizer is constructed directly.
    /// </summary>
    public ScalarType? ReduceDtype { get; init; }

    /// <summary>
    /// What is sharded across the ranks. <see cref="ZeroStage.None"/> (the default): every rank holds all FP32
    /// masters and optimizer state. <see cref="ZeroStage.OptimizerStates"/> (ZeRO 1) and
    /// <see cref="ZeroStage.Gradients"/> (ZeRO 2, FSDP <c>SHARD_GRAD_OP</c>): each rank holds the masters and
    /// optimizer state of 1/N of every dtype segment of the flat buffers, steps them, and the working weights are
    /// all-gathered; stage 2 reduce-scatters each micro-batch's gradient as its backward ends. Under ZeRO,
    /// <c>Save</c>/<c>Load</c> are collectives over one path (a shard per rank and a manifest), and a checkpoint in one
    /// stream or snapshot (<c>Save(Stream)</c>, <c>Load(Stream)</c>, <c>state_dict()</c>, <c>load_state_dict()</c>) is
    /// refused, since a rank would write or read its shard alone. Stage 3 is refused
    /// at creation with the plan it would give (<see cref="Reports.ShardedMemoryPlan"/>).
    /// </summary>
    public ZeroStage Stage { get; init; }

    /// <summary>
    /// The policy of the module the optimizer was created for (its precision plan), which ranks must agree on; set by the
    /// generated <c>CreateMixedPrecisionOptimizer</c> (<c>PrecisionPlan.OptimizerOptions</c>).
    /// </summary>
    internal string? Policy { get; init; }

    /// <summary>The reduce dtype in force: <see cref="ReduceDtype"/>, float32 when null.</summary>
    internal ScalarType EffectiveReduceDtype => ReduceDtype ?? ScalarType.Float32;

    internal void Validate()
    {
        if (Communicator is null) throw new ArgumentNullException(nameof(Communicator), "DataParallelOptions needs a communicator.");
        if (ReduceDtype is { } d && !AutocastDtypes.IsCastable(d))
            throw new ArgumentOutOfRangeException(nameof(ReduceDtype), $"The reduce dtype must be float32, bfloat16 or float16 (was {d}).");
        if (Communicator.WorldSize < 1 || Communicator.Rank < 0 || Communicator.Rank >= Communicator.WorldSize)
            throw new ArgumentException($"The communicator's rank {Communicator.Rank} and world size {Communicator.WorldSize} are inconsistent.", nameof(Communicator));
    }
}
