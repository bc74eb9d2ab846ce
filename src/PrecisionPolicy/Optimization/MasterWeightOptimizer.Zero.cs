using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.ExceptionServices;
using PrecisionPolicy.Distributed;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PrecisionPolicy.Optimization;

/// <summary>
/// ZeRO stage 1 and 2 (<see cref="DataParallelOptions.Stage"/>): each rank holds the FP32 masters and the inner
/// optimizer's state of its part of every dtype group (<see cref="ShardedBuffers"/>, <see cref="ZeroSharding"/>).
/// </summary>
public sealed partial class MasterWeightOptimizer
{
    private static bool IsSharded(MasterWeightOptions options) =>
        options.DataParallel is { Stage: ZeroStage.OptimizerStates or ZeroStage.Gradients };

    private (Tensor Masters, Tensor MasterGrads, DtypeGroup[] Groups, MasterSlot[] Slots, ZeroSharding Zero, DataParallelReduction Reduction)
        BuildSharded((string Name, Parameter Parameter)[] trainable)
    {
        var dp = Options.DataParallel!;
        dp.Validate();
        if (Options.Layout == MasterLayout.PerTensor)
            throw new NotSupportedException(
                $"ZeRO stage {(int)dp.Stage} shards the flat master buffer, so it needs MasterLayout.Flat (the default); the per-tensor layout " +
                "hands the inner optimizer whole parameters, which a rank does not hold.");
        var communicator = dp.Communicator;
        var (masters, masterGrads, groups, slots, shards) = ShardedBuffers.Build(trainable, Device, communicator.WorldSize, communicator.Rank);
        var sharding = new ZeroSharding(communicator, dp.Stage, dp.EffectiveReduceDtype, masters, shards, Device);
        var reduction = DataParallelReduction.Create(dp, DataParallelDescription(trainable), masterGrads.numel(), sharding.Replicas);
        sharding.MastersFromWorking(); // rank 0's weights, broadcast
        return (masters, masterGrads, groups, slots, sharding, reduction);
    }

    /// <summary>
    /// Every FP32 master, flattened and concatenated in <see cref="ParameterNames"/> order. Under ZeRO this is a
    /// collective (every rank must call it): the ranks' shards are all-gathered. Unsharded it is a copy of the masters.
    /// </summary>
    public Tensor GatherMasters()
    {
        using var guard = Enter(nameof(GatherMasters));
        using var _ = no_grad();
        if (zero is not null) return zero.GatherMasters(slots);
        using var scope = NewDisposeScope();
        return cat(slots.Select(s => s.Master.flatten()).ToArray()).MoveToOuterDisposeScope();
    }

    /// <summary>Elements whose FP32 masters and optimizer state this rank holds: all of them, or its shard under ZeRO.</summary>
    internal long SteppedElements => zero?.Elements ?? masters.numel();

    /// <summary>Elements of <paramref name="name"/>'s master and optimizer state this rank holds (under ZeRO, the part in its shard).</summary>
    internal long HeldElementsOf(string name)
    {
        var slot = SlotOf(name);
        if (zero is null || slot.Working.dtype != ScalarType.Float32) return slot.Master.numel();
        // An FP32 parameter's master is its working weight, whole on every rank; its state follows the shard.
        var shard = zero.PartGroups.First(g => g.Dtype == ScalarType.Float32);
        var start = slot.Master.storage_offset() - masters.storage_offset();
        var from = Math.Max(start, shard.Start);
        var to = Math.Min(start + slot.Master.numel(), shard.Start + shard.Master.numel());
        return Math.Max(0, to - from);
    }

    private Tensor WholeMaster(MasterSlot slot)
    {
        if (zero is null || slot.Working.dtype == ScalarType.Float32) return slot.Master;
        if (slot.Master.numel() == slot.Working.numel()) return slot.Master.view(slot.Working.shape);
        throw new InvalidOperationException(
            $"Under ZeRO stage {(int)zero.Stage} this rank (rank {zero.Communicator.Rank} of {zero.Communicator.WorldSize}) holds {slot.Master.numel()} of the " +
            $"{slot.Working.numel()} FP32 master elements of '{slot.Name}': call GatherMasters() on every rank to get them all.");
    }

    // What the step unscales, checks, clips and steps: the whole reduced gradient, or under ZeRO this rank's shard of it.
    private Tensor ReduceGradients()
    {
        if (zero is null)
        {
            dataParallel?.Reduce(masterGrads);
            return masterGrads;
        }
        if (zero.Stage == ZeroStage.OptimizerStates) zero.ReduceScatter(masterGrads, accumulate: false);
        return zero.Gradients;
    }

    // ZeRO stage 2: each micro-batch's gradient is reduce-scattered as its backward ends and added into the shard.
    private void ReduceMicroBatch()
    {
        if (zero?.Stage != ZeroStage.Gradients) return;
        using var _ = no_grad();
        zero.ReduceScatter(masterGrads, accumulate: microBatches > 0);
        masterGrads.zero_();
    }

    // After the shard's update (ChunkedUpdate wrote this rank's 16-bit parts back): every rank gets every part.
    private void FinishShardedUpdate()
    {
        masterGrads.zero_();
        zero!.GatherWorking();
    }

    // The working weights from freshly loaded masters: all of them, or under ZeRO this rank's parts, then gathered.
    private void WorkingFromMasters()
    {
        if (zero is not null)
        {
            zero.WorkingFromMasters();
            return;
        }
        foreach (var g in groups)
            if (g.IsLowPrecision) g.Working.copy_(g.Master);
    }

    private IEnumerable<long> ChunkLengths() => zero?.ChunkLengths() ?? FlatChunks.Of(masters.numel()).Select(c => c.Length);

    /// <summary>
    /// Runs <paramref name="stage"/> on every rank and lets it count only when it succeeded on every rank: under
    /// ZeRO a load changes all ranks or none (a rank that applied its shard alone would leave the ranks on
    /// different weights, and would wait forever in the all-gather that follows).
    /// </summary>
    private T OnEveryRank<T>(Func<T> stage, string what)
    {
        if (zero is null) return stage();
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        try
        {
            result = stage();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            failure = ExceptionDispatchInfo.Capture(e);
        }
        if (zero.AnyFailed(failure is not null))
        {
            failure?.Throw();
            throw new System.IO.InvalidDataException($"{what} failed on another rank (its error is reported there); nothing was loaded on any rank.");
        }
        return result;
    }
}
