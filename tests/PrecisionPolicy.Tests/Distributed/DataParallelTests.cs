using System;
using System.Linq;
using PrecisionPolicy.Distributed;
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
