using System.Linq;
using System;
using PrecisionPolicy.Reports;
using Xunit;

namespace PrecisionPolicy.Tests.Reports;

public sealed class ShardedMemoryPlanTests
{
    private const double SevenBillion = 7e9;
    private const double GB = 1e9;

    private static double[] PerGpuGb(Sharding sharding, Precision precision = Precision.BF16) =>
        ShardedMemoryPlan.PerGpu(MemoryPlan.For(SevenBillion, precision), sharding).Select(l => l.Bytes / GB).ToArray();

    // Roles in plan order: working weights, master weights, optimizer state, gradients.
    // Ψ = 7e9, N = 8, mixed-precision Adam: 2Ψ working = 14 GB, 4Ψ masters = 28 GB, 8Ψ moments = 56 GB, 2Ψ grads = 14 GB.
    [Fact]
    public void Zero_stage_0_replicates_the_7b_table_on_every_gpu()
    {
        // Nothing partitioned: (2 + 2 + 12)Ψ = 16 · 7 = 112 GB per GPU.
        Assert.Equal(new[] { 14.0, 28.0, 56.0, 14.0 }, PerGpuGb(Sharding.Zero(0, 8)));
    }

    [Fact]
    public void Zero_stage_1_partitions_masters_and_adam_state()
    {
        // 2Ψ + 2Ψ + KΨ/N = 14 + 14 + 12 · 7 / 8 = 14 + 14 + 10.5 = 38.5 GB; masters 28/8 = 3.5, moments 56/8 = 7.
        var gb = PerGpuGb(Sharding.Zero(1, 8));
        Assert.Equal(new[] { 14.0, 3.5, 7.0, 14.0 }, gb);
        Assert.Equal(38.5, gb.Sum());
    }

    [Fact]
    public void Zero_stage_2_partitions_gradients_too()
    {
        // 2Ψ + (2 + K)Ψ/N = 14 + 14 · 7 / 8 = 14 + 12.25 = 26.25 GB; gradients 14/8 = 1.75.
        var gb = PerGpuGb(Sharding.Zero(2, 8));
        Assert.Equal(new[] { 14.0, 3.5, 7.0, 1.75 }, gb);
        Assert.Equal(26.25, gb.Sum());
    }

    [Fact]
    public void Zero_stage_3_partitions_the_16_bit_parameters_too()
    {
        // (2 + 2 + K)Ψ/N = 16 · 7 / 8 = 14 GB; working weights 14/8 = 1.75.
        var gb = PerGpuGb(Sharding.Zero(3, 8));
        Assert.Equal(new[] { 1.75, 3.5, 7.0, 1.75 }, gb);
        Assert.Equal(14.0, gb.Sum());
    }

    [Fact]
    public void Fsdp_strategies_plan_as_the_zero_stage_that_shards_the_same_state()
    {
        Assert.Equal(14.0, PerGpuGb(Sharding.Fsdp(FsdpShardingStrategy.FullShard, 8)).Sum());     // = stage 3
        Assert.Equal(26.25, PerGpuGb(Sharding.Fsdp(FsdpShardingStrategy.ShardGradOp, 8)).Sum()); // = stage 2
        Assert.Equal(112.0, PerGpuGb(Sharding.Fsdp(FsdpShardingStrategy.NoShard, 8)).Sum());     // = DDP
    }

    [Fact]
    public void The_zero_paper_figure_for_7_5b_on_64_gpus()
    {
        // ZeRO paper, Figure 1 (Ψ = 7.5B, N_d = 64, K = 12): 120 GB, 31.4 GB, 16.6 GB, 1.9 GB.
        // Stage 1: 4 · 7.5 + 12 · 7.5 / 64 = 30 + 1.40625; stage 2: 2 · 7.5 + 14 · 7.5 / 64 = 15 + 1.640625; stage 3: 16 · 7.5 / 64.
        double Total(int stage) => MemoryPlan.Total(ShardedMemoryPlan.PerGpu(MemoryPlan.For(7.5e9, Precision.FP16), Sharding.Zero(stage, 64))) / GB;
        Assert.Equal(new[] { 120.0, 31.40625, 16.640625, 1.875 }, new[] { Total(0), Total(1), Total(2), Total(3) });
    }

    [Fact]
    public void Fp32_training_shards_the_same_roles_without_masters()
    {
        // weights 28, gradients 28, Adam 56 GB; stage 2 on 8 GPUs: 28 + 28/8 + 56/8 = 28 + 3.5 + 7 = 38.5 GB.
        Assert.Equal(new[] { 28.0, 3.5, 7.0 }, PerGpuGb(Sharding.Zero(2, 8), Precision.FP32));
    }

    [Fact]
    public void Activations_are_not_sharded()
    {
        var shape = new ActivationShape(1, 2048, 4096, 32, 32);
        var plan = MemoryPlan.For(SevenBillion, Precision.BF16, shape);
        var sharded = ShardedMemoryPlan.PerGpu(plan, Sharding.Zero(3, 8));
        Assert.Equal(plan.Single(l => l.Role == "activations").Bytes, sharded.Single(l => l.Role == "activations").Bytes);
    }

    [Fact]
    public void Lora_7b_rank_8_trains_only_the_adapters()
    {
        // Adapters: 32 layers × 4 projections × rank 8 × (4096 + 4096) = 8,388,608 parameters.
        // Frozen base: 2 B × 7e9 = 14e9. Adapters: working 2 B, master 4 B, Adam 8 B, gradients 2 B per parameter
        // = 16,777,216 + 33,554,432 + 67,108,864 + 16,777,216 = 134,217,728. Total 14,134,217,728 bytes.
        var lora = new LoraShape(Rank: 8, Hidden: 4096, Layers: 32);
        Assert.Equal(8_388_608.0, lora.AdapterParameters());
        var plan = MemoryPlan.ForLora(SevenBillion, Precision.BF16, lora);
        Assert.Equal(new[] { "frozen base weights", "adapter working weights", "adapter master weights", "adapter optimizer state", "adapter gradients" }, plan.Select(l => l.Role));
        Assert.Equal(new[] { 14e9, 16_777_216.0, 33_554_432.0, 67_108_864.0, 16_777_216.0 }, plan.Select(l => l.Bytes));
        Assert.Equal(14_134_217_728.0, MemoryPlan.Total(plan));

        // ZeRO-3 on 8 GPUs divides everything: 14e9 / 8 + 134,217,728 / 8 = 1,750,000,000 + 16,777,216.
        Assert.Equal(1_766_777_216.0, MemoryPlan.Total(ShardedMemoryPlan.PerGpu(plan, Sharding.Zero(3, 8))));
        // ZeRO-1 keeps the frozen base and the adapter working weights and gradients whole:
        // 14e9 + 16,777,216 + 16,777,216 + (33,554,432 + 67,108,864) / 8 = 14,046,137,344.
        Assert.Equal(14_046_137_344.0, MemoryPlan.Total(ShardedMemoryPlan.PerGpu(plan, Sharding.Zero(1, 8))));
    }

    [Fact]
    public void Bad_shardings_and_ranks_are_rejected_naming_the_value()
    {
        Assert.Equal("stage", Assert.Throws<ArgumentOutOfRangeException>(() => Sharding.Zero(4, 8)).ParamName);
        Assert.Equal("gpus", Assert.Throws<ArgumentOutOfRangeException>(() => Sharding.Zero(2, 0)).ParamName);
        Assert.Equal("gpus", Assert.Throws<ArgumentOutOfRangeException>(() => Sharding.Fsdp(FsdpShardingStrategy.FullShard, -1)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => MemoryPlan.ForLora(SevenBillion, Precision.BF16, new LoraShape(0, 4096, 32)));
        Assert.Throws<ArgumentOutOfRangeException>(() => MemoryPlan.ForLora(SevenBillion, Precision.BF16, new LoraShape(8192, 4096, 32)));
    }
}
