using System;
using System.Globalization;
using System.IO;
using System.Linq;
using Xunit;

namespace PrecisionPolicy.Mpi.Tests;

/// <summary>ZeRO stage 1 and 2 in real MPI jobs: the same training as unsharded data parallel, 1/N of the state per rank.</summary>
public sealed class MpiZeroTests : IDisposable
{
    private readonly MpiJob job = new(); // its folders are deleted when the test ends

    // One micro-batch per step: each rank reduce-scatters the same gradient into the same parts as unsharded data
    // parallel, checks the same part for the norm, and AdamW updates each element alike wherever its chunk starts.
    [Theory]
    [InlineData(2, "BFloat16", "BFloat16")]
    [InlineData(3, "Float32", "Float32")]
    public void Zero_1_and_2_match_unsharded_data_parallel_bitwise(int ranks, string dtype, string reduce)
    {
        var runs = new[] { 0, 1, 2 }.Select(stage =>
            job.Run(ranks, "train", "steps=12", "clip=0.5", $"dtype={dtype}", $"reduce={reduce}", $"stage={stage}")).ToArray();
        var unsharded = TrainingRun.Read(runs[0], 0);
        foreach (var folder in runs.Skip(1))
            foreach (var rank in Enumerable.Range(0, ranks))
            {
                var run = TrainingRun.Read(folder, rank);
                Assert.Equal(unsharded.Masters, run.Masters); // all FP32 masters, gathered from the shards
                Assert.Equal(MpiJob.Bytes(runs[0], 0, "working"), MpiJob.Bytes(folder, rank, "working"));
                var reference = TrainingRun.Read(runs[0], rank);
                Assert.Equal(reference.Steps.Select(s => (s.Applied, s.Norm, s.Loss)), run.Steps.Select(s => (s.Applied, s.Norm, s.Loss)));
            }
        // Bytes per step: unsharded sends the gradient (reduce-scatter) and its part of the reduced gradient (all-gather);
        // ZeRO the gradient and its part of the working weights. Equal when the working and reduce dtypes are.
        var zero = TrainingRun.Read(runs[1], 0);
        Assert.Equal(unsharded.Steps.Select(s => s.BytesSent), zero.Steps.Select(s => s.BytesSent));
    }

    [Fact]
    public void Stage_2_with_micro_batches_differs_from_stage_1_only_by_the_order_of_its_sums()
    {
        // Stage 1 reduces the sum of the micro-batches; stage 2 sums the reduced micro-batches: FP32 additions in
        // another order, a few ulps per gradient element, which AdamW turns into differences of the same order.
        var stage0 = job.Run(3, "train", "steps=10", "micro=2", "b=4", "clip=0.5", "stage=0");
        var stage1 = job.Run(3, "train", "steps=10", "micro=2", "b=4", "clip=0.5", "stage=1");
        var stage2 = job.Run(3, "train", "steps=10", "micro=2", "b=4", "clip=0.5", "stage=2");
        Assert.Equal(TrainingRun.Read(stage0, 0).Masters, TrainingRun.Read(stage1, 2).Masters);
        var (a, b) = (TrainingRun.Read(stage1, 0).Masters, TrainingRun.Read(stage2, 1).Masters);
        var difference = Math.Sqrt(a.Zip(b).Sum(p => Math.Pow(p.First - p.Second, 2)));
        var size = Math.Sqrt(a.Sum(m => (double)m * m));
        Assert.True(difference <= 1e-6 * size, $"relative difference {difference / size:E2} after 10 steps");
        // Stage 2 reduce-scatters each of the 2 micro-batches: 644 bytes each, then the 216-byte part of the weights and 16.
        Assert.All(TrainingRun.Read(stage2, 0).Steps, s => Assert.Equal(2 * 644 + 216 + 16, s.BytesSent));
        Assert.All(TrainingRun.Read(stage1, 0).Steps, s => Assert.Equal(644 + 216 + 16, s.BytesSent));
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(3, 2)]
    public void Each_rank_holds_its_share_of_masters_and_adam_state_as_planned(int ranks, int stage)
    {
        // The generated BF16 regressor, 8-64-1 (641 parameters): its manifest on each rank against ShardedMemoryPlan's
        // figure. A rank's part differs from 641 / N by under one element (0.16% at 3 ranks).
        const int parameters = 8 * 64 + 64 + 64 + 1;
        var folder = job.Run(ranks, "generated", $"stage={stage}", "hidden=64");
        long sum = 0;
        foreach (var rank in Enumerable.Range(0, ranks))
        {
            var fields = MpiJob.Text(folder, rank, "memory.txt").Split(' ');
            var (held, planned) = (long.Parse(fields[0], CultureInfo.InvariantCulture), double.Parse(fields[1], CultureInfo.InvariantCulture));
            Assert.Equal(12.0 * parameters / ranks, planned, 6);
            Assert.True(Math.Abs(held - planned) <= 0.01 * planned, $"rank {rank}: {held} bytes held, {planned} planned");
            sum += held;
        }
        Assert.Equal(12 * parameters, sum); // the shards cover every master and moment once
        Assert.Equal(MpiJob.Bytes(folder, 0, "masters"), MpiJob.Bytes(folder, ranks - 1, "masters"));
    }

    [Fact]
    public void An_overflow_on_one_rank_skips_the_step_on_every_rank_under_zero_2()
    {
        var folder = job.Run(3, "train", "steps=8", "dtype=BFloat16", "reduce=BFloat16", "scaling=dynamic", "stage=2", "inject=1:4");
        var runs = Enumerable.Range(0, 3).Select(r => TrainingRun.Read(folder, r)).ToArray();
        foreach (var run in runs)
        {
            Assert.False(run.Steps[4].Applied);
            Assert.Equal("unchanged", run.Steps[4].Unchanged); // every master, every shard's Adam state and the working weights
            Assert.True(run.Steps[5].Applied);
        }
        for (var s = 0; s < 8; s++)
            foreach (var run in runs.Skip(1))
                Assert.Equal(runs[0].Steps[s].ScaleBits, run.Steps[s].ScaleBits);
        Assert.NotEqual(runs[0].Steps[4].ScaleBits, runs[0].Steps[5].ScaleBits);
        foreach (var run in runs.Skip(1)) Assert.Equal(runs[0].Masters, run.Masters);
    }

    [Fact]
    public void A_sharded_checkpoint_resumes_bitwise_and_other_world_sizes_or_stages_are_refused_with_nothing_changed()
    {
        var straight = job.Run(2, "train", "steps=10", "dtype=BFloat16", "reduce=BFloat16", "scaling=dynamic", "stage=2");
        var resumed = job.Run(2, "train", "steps=10", "dtype=BFloat16", "reduce=BFloat16", "scaling=dynamic", "stage=2", "resume=5");
        foreach (var rank in Enumerable.Range(0, 2))
        {
            var (a, b) = (TrainingRun.Read(straight, rank), TrainingRun.Read(resumed, rank));
            Assert.Equal(a.Masters, b.Masters);
            Assert.Equal(a.Steps.Select(s => (s.ScaleBits, s.Loss)), b.Steps.Select(s => (s.ScaleBits, s.Loss)));
        }
        // One manifest and one shard per rank.
        var files = Directory.GetFiles(resumed, "checkpoint*").Select(Path.GetFileName).Order().ToArray();
        Assert.Equal(3, files.Length);
        Assert.Equal("checkpoint", files[0]);
        Assert.EndsWith(".rank0-of-2", files[1], StringComparison.Ordinal);
        Assert.EndsWith(".rank1-of-2", files[2], StringComparison.Ordinal);

        var manifest = Path.Combine(resumed, "checkpoint");
        var threeRanks = job.Run(3, "train", "steps=1", "dtype=BFloat16", "reduce=BFloat16", "scaling=dynamic", "stage=2", $"load={manifest}");
        foreach (var rank in Enumerable.Range(0, 3))
            Assert.Equal("unchanged\n" +
                         $"Checkpoint '{manifest}' was saved by ZeRO stage 2 on 2 rank(s), and this job runs ZeRO stage 2 on 3 rank(s): each rank's file " +
                         "holds its 1/2 of the masters and optimizer state, and resharding to another world size is not implemented. Resume on 2 rank(s) " +
                         "(stage 1 or 2 alike). Nothing was loaded.", MpiJob.Text(threeRanks, rank, "load.txt"));
        var unsharded = job.Run(2, "train", "steps=1", "dtype=BFloat16", "reduce=BFloat16", "scaling=dynamic", "stage=0", $"load={manifest}");
        Assert.StartsWith("unchanged\n" + $"Checkpoint '{manifest}' is the manifest of a ZeRO-sharded checkpoint", MpiJob.Text(unsharded, 1, "load.txt"), StringComparison.Ordinal);
        // Stages 1 and 2 shard alike: a stage 2 checkpoint resumes under stage 1.
        var stage1 = job.Run(2, "train", "steps=1", "dtype=BFloat16", "reduce=BFloat16", "scaling=dynamic", "stage=1", $"load={manifest}");
        Assert.Equal("changed\nloaded", MpiJob.Text(stage1, 0, "load.txt"));
    }

    [Fact]
    public void An_unsharded_checkpoint_is_refused_under_zero_on_every_rank_with_nothing_changed()
    {
        var saved = job.Run(2, "train", "steps=4", "stage=0", "resume=2");
        var checkpoint = Path.Combine(saved, "rank0.checkpoint");
        var folder = job.Run(2, "train", "steps=1", "stage=1", $"load={checkpoint}");
        foreach (var rank in Enumerable.Range(0, 2))
            Assert.Equal("unchanged\n" +
                         $"Checkpoint '{checkpoint}' was saved without ZeRO (one file holding every master and all optimizer state), and this job runs " +
                         "ZeRO stage 1 on 2 rank(s): resharding is not implemented. Load it with DataParallelOptions.Stage = ZeroStage.None. Nothing was loaded.",
                         MpiJob.Text(folder, rank, "load.txt"));
    }

    public void Dispose() => job.Dispose();
}
