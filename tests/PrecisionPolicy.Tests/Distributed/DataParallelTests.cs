using System;
using System.Linq;
using PrecisionPolicy.Distributed;
using PrecisionPolicy.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Distributed;

public sealed class DataParallelTests
{
    private const float Eighth = 1f / 256; // 2^-8: half a BF16 ulp at 1.0

    // Four ranks, four elements (one ring chunk each): rank 0 holds 1.0 everywhere, ranks 1-3 hold 2^-8.
    private static Tensor[] RankGradients() =>
        new[] { ones(4), full(4, Eighth), full(4, Eighth), full(4, Eighth) };

    [Fact]
    public void Fp32_reduction_is_the_exact_sum()
    {
        // 1 + 3 · 2^-8 = 1.01171875, exact in float32.
        var sum = RingAllReduce.Sum(RankGradients(), ScalarType.Float32);
        Assert.Equal(Enumerable.Repeat(1.01171875f, 4), sum.data<float>().ToArray());
    }

    [Fact]
    public void Bf16_reduction_rounds_every_partial_sum_in_ring_order()
    {
        // Chunk c is summed over ranks c, c+1, c+2, c+3 (mod 4), rounding to BF16 (8 significant bits,
        // ulp 2^-7 at 1, ties to even) after each add:
        //   chunk 0: 1 +2^-8 -> 1 (tie, even) +2^-8 -> 1 +2^-8 -> 1                          = 1
        //   chunk 1: 2^-8 +2^-8 +2^-8 = 3·2^-8, +1 = 1 + 1.5 ulp -> 1 + 2 ulp (tie, even)      = 1.015625
        //   chunk 2: 2^-8 +2^-8 = 2^-7, +1 = 1.0078125 (exact), +2^-8 = 1 + 1.5 ulp -> 1.015625
        //   chunk 3: 2^-8 +1 -> 1 (tie, even) +2^-8 -> 1 +2^-8 -> 1                           = 1
        var sum = RingAllReduce.Sum(RankGradients(), ScalarType.BFloat16);
        Assert.Equal(new[] { 1f, 1.015625f, 1.015625f, 1f }, sum.data<float>().ToArray());
        Assert.Equal(ScalarType.Float32, sum.dtype);
    }

    [Theory]
    [InlineData(ScalarType.Float32, new[] { 0.2529296875f, 0.2529296875f, 0.2529296875f, 0.2529296875f })]
    [InlineData(ScalarType.BFloat16, new[] { 0.25f, 0.25390625f, 0.25390625f, 0.25f })]
    public void Simulated_ranks_hand_the_reduced_average_to_the_fp32_masters(ScalarType reduceDtype, float[] expectedGradient)
    {
        // Rank k's loss sum(w · c_k) has gradient c_k exactly (the rank gradients above). Each is divided
        // by 4 ranks (exact), ring-summed in the reduce dtype, and SGD with lr 1 from w = 0 leaves
        // master = -gradient: FP32 (1 + 3·2^-8)/4 = 0.2529296875; BF16 the chunk sums above / 4.
        var w = new Parameter(zeros(4, dtype: ScalarType.BFloat16), requires_grad: true);
        using var optimizer = new MasterWeightOptimizer(new[] { ("w", w) }, ps => optim.SGD(ps, 1.0));
        var c = RankGradients();
        var outcome = DataParallel.SimulatedStep(optimizer, 4, k => (w.to(ScalarType.Float32) * c[k]).sum(), reduceDtype);

        Assert.True(outcome.Applied);
        Assert.Equal(expectedGradient.Select(g => -g), optimizer.MasterOf("w").data<float>().ToArray());
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float16)]
    public void The_ring_sum_of_eight_ranks_matches_a_sum_rounded_by_hand_in_ring_order(ScalarType reduceDtype)
    {
        // 8 ranks, 1001 elements (chunks of 126 and 125, as tensor_split cuts them), values in [-4, 4).
        const int ranks = 8;
        const int count = 1001;
        var generator = new Generator(7);
        var gradients = Enumerable.Range(0, ranks).Select(_ => (rand(count, generator: generator) * 8 - 4)).ToArray();
        var values = gradients.Select(g => g.data<float>().ToArray()).ToArray();

        var expected = new float[count];
        var start = 0;
        for (var c = 0; c < ranks; c++)
        {
            var length = count / ranks + (c < count % ranks ? 1 : 0);
            for (var i = start; i < start + length; i++)
            {
                // Each add is the float32 sum of two reduce-dtype values, rounded back to the reduce dtype.
                var sum = Round(values[c][i], reduceDtype);
                for (var step = 1; step < ranks; step++)
                    sum = Round(sum + Round(values[(c + step) % ranks][i], reduceDtype), reduceDtype);
                expected[i] = sum;
            }
            start += length;
        }

        Assert.Equal(expected, RingAllReduce.Sum(gradients, reduceDtype).data<float>().ToArray());
    }

    [Fact]
    public void Fp32_reduction_of_exactly_representable_gradients_equals_the_plain_sum()
    {
        // Multiples of 2^-10 below 2^10 in magnitude: every partial sum is exact in float32, so any order gives the plain sum.
        var generator = new Generator(3);
        var gradients = Enumerable.Range(0, 6).Select(_ => (rand(500, generator: generator) * 2000 - 1000).floor() / 1024).ToArray();
        var values = gradients.Select(g => g.data<float>().ToArray()).ToArray();
        var plain = Enumerable.Range(0, 500).Select(i => values.Sum(v => v[i])).ToArray(); // rank 0 first, in float32
        Assert.Equal(plain, RingAllReduce.Sum(gradients, ScalarType.Float32).data<float>().ToArray());
    }

    // Round to nearest, ties to even: bfloat16 is the top 16 bits of a float32; float16 via System.Half.
    private static float Round(float value, ScalarType dtype) => dtype switch
    {
        ScalarType.BFloat16 => BitConverter.Int32BitsToSingle((BitConverter.SingleToInt32Bits(value) + 0x7FFF + ((BitConverter.SingleToInt32Bits(value) >> 16) & 1)) & unchecked((int)0xFFFF0000)),
        ScalarType.Float16 => (float)(Half)value,
        _ => value,
    };

    [Fact]
    public void A_simulated_step_splits_the_batch_into_one_micro_batch_per_rank()
    {
        // The batch's rows are the four rank gradients above; rank k's loss sum(x_k · w) has gradient x_k.
        var w = new Parameter(zeros(4, dtype: ScalarType.BFloat16), requires_grad: true);
        using var optimizer = new MasterWeightOptimizer(new[] { ("w", w) }, ps => optim.SGD(ps, 1.0));
        var batch = stack(RankGradients());
        var outcome = new SimulatedDataParallel(4).Step(optimizer, batch, zeros(4), (x, _) => (x * w.to(ScalarType.Float32)).sum(), ScalarType.BFloat16);

        Assert.True(outcome.Applied);
        Assert.Equal(new[] { -0.25f, -0.25390625f, -0.25390625f, -0.25f }, optimizer.MasterOf("w").data<float>().ToArray());
    }

    [Fact]
    public void A_batch_that_does_not_split_into_equal_micro_batches_is_rejected_before_any_backward()
    {
        var w = new Parameter(ones(4, dtype: ScalarType.BFloat16), requires_grad: true);
        using var optimizer = new MasterWeightOptimizer(new[] { ("w", w) }, ps => optim.SGD(ps, 1.0));
        var mode = new SimulatedDataParallel(4);
        Tensor Loss(Tensor x, Tensor _) => (x * w.to(ScalarType.Float32)).sum();

        var uneven = Assert.Throws<ArgumentException>(() => mode.Step(optimizer, ones(6, 4), zeros(6), Loss, ScalarType.BFloat16));
        Assert.Contains("(6)", uneven.Message, StringComparison.Ordinal);
        var mismatched = Assert.Throws<ArgumentException>(() => mode.Step(optimizer, ones(8, 4), zeros(4), Loss, ScalarType.BFloat16));
        Assert.Equal("target", mismatched.ParamName);
        Assert.Equal(0, optimizer.PendingMicroBatches);
        Assert.Equal(new[] { 1f, 1f, 1f, 1f }, optimizer.MasterOf("w").data<float>().ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => new SimulatedDataParallel(0));
    }

    [Theory]
    [InlineData(AutocastReduce.Compute, Precision.BF16, ScalarType.BFloat16)]
    [InlineData(AutocastReduce.Compute, Precision.FP16, ScalarType.Float16)]
    [InlineData(AutocastReduce.Compute, Precision.FP8, ScalarType.BFloat16)] // FP8 gradients are stored in BF16
    [InlineData(AutocastReduce.Compute, Precision.FP32, ScalarType.Float32)]
    [InlineData(AutocastReduce.Float32, Precision.BF16, ScalarType.Float32)]
    [InlineData(AutocastReduce.BFloat16, Precision.FP32, ScalarType.BFloat16)]
    [InlineData(AutocastReduce.Float16, Precision.BF16, ScalarType.Float16)]
    public void The_reduce_setting_stands_for_the_compute_dtype_or_its_own(AutocastReduce reduce, Precision precision, ScalarType expected) =>
        Assert.Equal(expected, DataParallel.ReduceDtypeOf(reduce, precision));

    [Fact]
    public void An_undefined_reduce_setting_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DataParallel.ReduceDtypeOf((AutocastReduce)9, Precision.BF16));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CompilerServices.PrecisionPlan("M", Precision.BF16, Array.Empty<string>(), reduce: (AutocastReduce)9));
    }

    private sealed class RecordingBackend : IGradientAllReduce
    {
        public ScalarType? Dtype;
        public float[]? Received;
        public int WorldSize => 2;

        // Stands in for a two-rank backend whose other rank sent the same gradient.
        public void AllReduceSum(Tensor gradient, ScalarType reduceDtype)
        {
            Dtype = reduceDtype;
            Received = gradient.data<float>().ToArray();
            using var _ = no_grad();
            gradient.copy_(RingAllReduce.Sum(new[] { gradient, gradient }, reduceDtype));
        }
    }

    [Fact]
    public void A_backend_gets_the_gradient_divided_by_the_world_size_in_the_reduce_dtype()
    {
        var w = new Parameter(zeros(2, dtype: ScalarType.BFloat16), requires_grad: true);
        using var optimizer = new MasterWeightOptimizer(new[] { ("w", w) }, ps => optim.SGD(ps, 1.0));
        var backend = new RecordingBackend();
        var outcome = DataParallel.Step(optimizer, backend, (w.to(ScalarType.Float32) * tensor(new[] { 3f, 5f })).sum(), ScalarType.BFloat16);

        Assert.True(outcome.Applied);
        Assert.Equal(ScalarType.BFloat16, backend.Dtype);
        Assert.Equal(new[] { 1.5f, 2.5f }, backend.Received);                       // gradient / 2 ranks
        Assert.Equal(new[] { -3f, -5f }, optimizer.MasterOf("w").data<float>().ToArray()); // summed back over 2 ranks
    }

    [Fact]
    public void Bad_reductions_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RingAllReduce.Sum(RankGradients(), ScalarType.Float64));
        Assert.Throws<ArgumentException>(() => RingAllReduce.Sum(new[] { ones(4), ones(3) }, ScalarType.Float32));
        Assert.Throws<ArgumentException>(() => RingAllReduce.Sum(Array.Empty<Tensor>(), ScalarType.Float32));
    }
}
