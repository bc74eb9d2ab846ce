using System;
using System.Linq;
using Xunit;

namespace PrecisionPolicy.Mpi.Tests;

/// <summary>Data-parallel training with the master-weight optimizer in real MPI jobs.</summary>
public sealed class MpiDataParallelTests : IDisposable
{
    private readonly MpiJob job = new(); // its folders are deleted when the test ends

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Fp32_on_n_ranks_of_b_rows_matches_one_process_on_n_times_b_rows(int ranks)
    {
        var parallel = job.Run(ranks, "train", "steps=20", "b=4", "clip=0.5");
        var (code, output, single) = job.Start(0, "train", TimeSpan.FromMinutes(4), null, $"ranks={ranks}", "steps=20", "b=4", "clip=0.5");
        Assert.True(code == 0, output);

        var runs = Enumerable.Range(0, ranks).Select(r => TrainingRun.Read(parallel, r)).ToArray();
        foreach (var run in runs.Skip(1)) Assert.Equal(runs[0].Masters, run.Masters); // replicas stay bit-identical
        var one = TrainingRun.Read(single, 0);
        Assert.Equal(one.Masters.Length, runs[0].Masters.Length);
        var difference = Math.Sqrt(one.Masters.Zip(runs[0].Masters).Sum(p => Math.Pow(p.First - p.Second, 2)));
        var size = Math.Sqrt(one.Masters.Sum(m => (double)m * m));
        Assert.True(difference <= 1e-5 * size, $"relative difference {difference / size:E2} after 20 steps");
        // The global norm clipped the same steps: the norms agree with one process.
        for (var s = 0; s < 20; s++)
            Assert.True(Math.Abs(one.Steps[s].Norm - runs[0].Steps[s].Norm) <= 1e-5 * one.Steps[s].Norm, $"step {s}: norm {runs[0].Steps[s].Norm} vs {one.Steps[s].Norm}");
    }

    [Fact]
    public void Bfloat16_reduction_sends_half_the_gradient_bytes_of_float32()
    {
        var fp32 = TrainingRun.Read(job.Run(2, "train", "steps=3", "dtype=BFloat16", "reduce=Float32"), 0);
        var bf16 = TrainingRun.Read(job.Run(2, "train", "steps=3", "dtype=BFloat16", "reduce=BFloat16"), 0);
        // Per step: the gradient's reduce-scatter and all-gather, plus two doubles (finite flag, squared norm).
        const long check = 2 * sizeof(double);
        var elements = 8 * 16 + 16 + 16 + 1;
        var part = (elements + 1) / 2;
        Assert.All(fp32.Steps, s => Assert.Equal(4 * (elements + part) + check, s.BytesSent));
        Assert.All(bf16.Steps, s => Assert.Equal(2 * (elements + part) + check, s.BytesSent));
    }

    [Theory]
    [InlineData(2, "Float16")]
    [InlineData(3, "BFloat16")]
    public void An_overflow_on_one_rank_skips_the_step_on_every_rank_and_changes_nothing(int ranks, string reduce)
    {
        var folder = job.Run(ranks, "train", "steps=8", $"reduce={reduce}", "scaling=dynamic", $"inject={ranks - 1}:4");
        var runs = Enumerable.Range(0, ranks).Select(r => TrainingRun.Read(folder, r)).ToArray();
        foreach (var run in runs)
        {
            Assert.False(run.Steps[4].Applied);
            Assert.Equal("unchanged", run.Steps[4].Unchanged); // masters, Adam state and working weights: 0 bytes changed
        }
        // (Under FP16 reduction the first steps overflow the 16-bit wire at scale 2^16 too, and back off the scale.)
        Assert.Contains(runs[0].Steps, s => s.Applied);
        for (var s = 0; s < 8; s++)
            foreach (var run in runs.Skip(1))
            {
                Assert.Equal(runs[0].Steps[s].Applied, run.Steps[s].Applied); // every rank applies or skips together
                Assert.Equal(runs[0].Steps[s].ScaleBits, run.Steps[s].ScaleBits); // one scale, bit for bit
            }
        Assert.NotEqual(runs[0].Steps[4].ScaleBits, runs[0].Steps[5].ScaleBits); // the skip backed the scale off
        foreach (var run in runs.Skip(1)) Assert.Equal(runs[0].Masters, run.Masters);
    }

    [Fact]
    public void The_generated_steps_reduce_in_the_class_reduce_dtype_and_keep_replicas_identical()
    {
        var folder = job.Run(2, "generated");
        // [Autocast(BF16, ReduceDtype = BFloat16)]: 161 parameters sent as 2-byte elements (reduce-scatter of
        // all 161, all-gather of this rank's part: 81 or 80) plus the two doubles of the finite check, on every step.
        foreach (var rank in Enumerable.Range(0, 2))
        {
            var steps = MpiJob.Text(folder, rank, "generated.txt").Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(6, steps.Length);
            var part = PrecisionPolicy.Distributed.Partitions.Of(161, 2)[rank].Length;
            Assert.All(steps, s => Assert.EndsWith($" True {2 * (161 + part) + 16}", s, StringComparison.Ordinal));
        }
        Assert.Equal(MpiJob.Bytes(folder, 0, "masters"), MpiJob.Bytes(folder, 1, "masters"));
        Assert.Equal(MpiJob.Bytes(folder, 0, "working"), MpiJob.Bytes(folder, 1, "working"));
    }

    [Fact]
    public void A_run_saved_and_resumed_on_every_rank_matches_the_uninterrupted_run_bitwise()
    {
        var straight = job.Run(2, "train", "steps=10", "reduce=BFloat16", "scaling=dynamic");
        var resumed = job.Run(2, "train", "steps=10", "reduce=BFloat16", "scaling=dynamic", "resume=5");
        foreach (var rank in Enumerable.Range(0, 2))
        {
            var (a, b) = (TrainingRun.Read(straight, rank), TrainingRun.Read(resumed, rank));
            Assert.Equal(a.Masters, b.Masters);
            Assert.Equal(a.Steps.Select(s => (s.ScaleBits, s.Loss)), b.Steps.Select(s => (s.ScaleBits, s.Loss)));
        }
    }

    [Fact]
    public void Bf16_training_on_two_ranks_converges_like_one_process_on_the_same_batches_over_five_seeds()
    {
        // Each step's batch of 2 x 16 rows is drawn once: two ranks take 16 rows each, the one process all 32. The
        // final loss is measured on 256 held-out rows. BF16 reduction runs unsharded, FP32 reduction under ZeRO 2.
        var (bf16, fp32, single, initial) = (new double[5], new double[5], new double[5], new double[5]);
        for (var seed = 1; seed <= 5; seed++)
        {
            string[] common = ["steps=200", "b=16", "dtype=BFloat16", $"seed={seed}"];
            bf16[seed - 1] = Evaluation(job.Run(2, "train", [.. common, "reduce=BFloat16", "stage=0"]));
            fp32[seed - 1] = Evaluation(job.Run(2, "train", [.. common, "reduce=Float32", "stage=2"]));
            var (code, output, folder) = job.Start(0, "train", TimeSpan.FromMinutes(4), null, [.. common, "ranks=2"]);
            Assert.True(code == 0, output);
            single[seed - 1] = Evaluation(folder);
            initial[seed - 1] = Evaluation(folder, untrained: true);
        }
        var reference = Median(single);
        Assert.True(reference < 0.5 * Median(initial), $"the one process did not learn: median loss {Median(initial)} before, {reference} after");
        Assert.True(Math.Abs(Median(bf16) - reference) <= 0.02 * reference, $"BF16 reduction: median {Median(bf16)} vs {reference} on one process");
        Assert.True(Math.Abs(Median(fp32) - reference) <= 0.02 * reference, $"FP32 reduction: median {Median(fp32)} vs {reference} on one process");
    }

    // The held-out loss after training (or before, untrained).
    private static double Evaluation(string folder, bool untrained = false) => double.Parse(
        System.IO.File.ReadAllText(System.IO.Path.Combine(folder, "rank0.eval.txt")).Split(' ')[untrained ? 0 : 1], System.Globalization.CultureInfo.InvariantCulture);

    private static double Median(double[] values) => values.Order().ElementAt(values.Length / 2);

    public void Dispose() => job.Dispose();
}
