using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Optimization;

/// <summary>The flat layout's inner optimizer runs over cache-sized chunks with the result of one flat parameter.</summary>
public sealed class FlatChunksTests
{
    // Two full chunks and a partial one, from tensors whose boundaries are not chunk boundaries.
    private static readonly long[] Sizes = { 150_000, 120_000, 5 };

    [Fact]
    public void Chunks_cover_the_buffer_in_order_without_overlap()
    {
        var chunks = FlatChunks.Of(2 * FlatChunks.Elements + 7).ToArray();

        Assert.Equal(new[] { (0L, FlatChunks.Elements), (FlatChunks.Elements, FlatChunks.Elements), (2 * FlatChunks.Elements, 7L) }, chunks);
    }

    [Fact]
    public void Chunked_AdamW_steps_are_bitwise_the_steps_of_AdamW_over_one_flat_parameter()
    {
        manual_seed(7);
        var initial = Sizes.Select(n => randn(n)).ToArray();
        var weights = Sizes.Select(n => randn(n)).ToArray();
        var parameters = initial.Select(t => new Parameter(t.clone(), requires_grad: true)).ToArray();
        using var chunked = new MasterWeightOptimizer(parameters.Select((p, i) => ($"p{i}", p)), ps => optim.AdamW(ps, 1e-2, weight_decay: 0.1));
        var flat = new Parameter(cat(initial, 0), requires_grad: true);
        using var reference = optim.AdamW(new[] { flat }, 1e-2, weight_decay: 0.1);

        for (var step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            // d(sum p_i * w_i)/dp_i = w_i exactly: both optimizers see the same FP32 gradient.
            chunked.Step(parameters.Zip(weights, (p, w) => (p * w).sum()).Aggregate((a, b) => a + b));
            flat.grad = cat(weights, 0);
            reference.step();
        }

        Assert.Equal(3, chunked.Inner.parameters().Count());
        var masters = cat(Enumerable.Range(0, Sizes.Length).Select(i => chunked.MasterOf($"p{i}").flatten()).ToArray(), 0);
        Assert.Equal(flat.detach().data<float>().ToArray(), masters.data<float>().ToArray());
        Assert.NotEqual(cat(initial, 0).data<float>().ToArray(), masters.data<float>().ToArray()); // the steps moved the weights
    }
}
