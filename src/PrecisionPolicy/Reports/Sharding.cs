using System;
using PrecisionPolicy.Distributed;

namespace PrecisionPolicy.Reports;

/// <summary>PyTorch FSDP's <c>ShardingStrategy</c> values a plan understands.</summary>
public enum FsdpShardingStrategy
{
    /// <summary><c>FULL_SHARD</c>: parameters, gradients and optimizer state sharded (as ZeRO stage 3).</summary>
    FullShard,

    /// <summary><c>SHARD_GRAD_OP</c>: gradients and optimizer state sharded, parameters whole between forward and backward (as ZeRO stage 2).</summary>
    ShardGradOp,

    /// <summary><c>NO_SHARD</c>: replicated, like DistributedDataParallel.</summary>
    NoShard,
}

/// <summary>How training state is divided over data-parallel GPUs.</summary>
/// <param name="Stage">What is partitioned.</param>
/// <param name="Gpus">Data-parallel ranks.</param>
/// <param name="Name">How the user named it (ZeRO stage or FSDP strategy).</param>
public sealed record Sharding(ZeroStage Stage, int Gpus, string Name)
{
    /// <summary>One GPU, nothing sharded.</summary>
    public static Sharding SingleGpu { get; } = new(ZeroStage.None, 1, "single GPU");

    /// <summary>DeepSpeed ZeRO stage 0 (data parallel), 1, 2 or 3 over <paramref name="gpus"/> GPUs.</summary>
    public static Sharding Zero(int stage, int gpus)
    {
        if (stage is < 0 or > 3)
            throw new ArgumentOutOfRangeException(nameof(stage), $"The ZeRO stage must be 0, 1, 2 or 3 (was {stage}).");
        RequireGpus(gpus);
        return new Sharding((ZeroStage)stage, gpus, $"ZeRO stage {stage}, {gpus} GPUs");
    }

    /// <summary>
    /// FSDP with <paramref name="strategy"/> over <paramref name="gpus"/> GPUs, planned as the ZeRO
    /// stage that shards the same state. FSDP keeps the sharded parameter in its original FP32
    /// (the master) and all-gathers 16-bit copies one wrapped unit at a time, so per-GPU totals match
    /// ZeRO's; the transient copy of the unit being computed is not counted.
    /// </summary>
    public static Sharding Fsdp(FsdpShardingStrategy strategy, int gpus)
    {
        RequireGpus(gpus);
        var (stage, name) = strategy switch
        {
            FsdpShardingStrategy.FullShard => (ZeroStage.Parameters, "FULL_SHARD"),
            FsdpShardingStrategy.ShardGradOp => (ZeroStage.Gradients, "SHARD_GRAD_OP"),
            FsdpShardingStrategy.NoShard => (ZeroStage.None, "NO_SHARD"),
            _ => throw new ArgumentOutOfRangeException(nameof(strategy), $"Unknown FSDP sharding strategy {strategy}."),
        };
        return new Sharding(stage, gpus, $"FSDP {name}, {gpus} GPUs");
    }

    private static void RequireGpus(int gpus)
    {
        if (gpus < 1) throw new ArgumentOutOfRangeException(nameof(gpus), $"The GPU count must be >= 1 (was {gpus}).");
    }
}
