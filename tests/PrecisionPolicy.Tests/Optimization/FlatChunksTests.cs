using System.Linq;
using PrecisionPolicy.Optimization;
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

    // TorchSharp's per-parameter-state optimizers are stepped one chunk per step() call, Rprop once over all chunks.
    public static TheoryData<string> Optimizers => new() { "adamw", "adam", "sgd", "rmsprop", "adagrad", "adadelta", "adamax", "rprop" };

    private static OptimizerHelper Build(string optimizer, System.Collections.Generic.IEnumerable<Parameter> ps) => optimizer switch
    {
        "adamw" => optim.AdamW(ps, 1e-2, weight_decay: 0.1),
        "adam" => optim.Adam(ps, 1e-2, amsgrad: true),
        "sgd" => optim.SGD(ps, 1e-2, momentum: 0.9, nesterov: true),
        "rmsprop" => optim.RMSProp(ps, 1e-2, momentum: 0.5, centered: true),
        "adagrad" => optim.Adagrad(ps, 1e-2, lr_decay: 0.1),
        "adadelta" => optim.Adadelta(ps, 1.0, weight_decay: 0.01),
        "adamax" => optim.Adamax(ps, 1e-2),
        "rprop" => optim.Rprop(ps, 1e-2),
        _ => throw new System.ArgumentOutOfRangeException(nameof(optimizer)),
    };

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void Chunked_steps_are_bitwise_the_steps_of_the_optimizer_over_one_flat_parameter(string optimizer)
    {
        manual_seed(7);
        var initial = Sizes.Select(n => randn(n)).ToArray();
        var weights = Sizes.Select(n => randn(n)).ToArray();
        var parameters = initial.Select(t => new Parameter(t.clone(), requires_grad: true)).ToArray();
        using var chunked = new MasterWeightOptimizer(parameters.Select((p, i) => ($"p{i}", p)), ps => Build(optimizer, ps));
        var flat = new Parameter(cat(initial, 0), requires_grad: true);
        using var reference = Build(optimizer, new[] { flat });

        for (var step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            // d(sum p_i * w_i)/dp_i = w_i exactly: both optimizers see the same FP32 gradient.
            chunked.Step(parameters.Zip(weights, (p, w) => (p * w).sum()).Aggregate((a, b) => a + b));
            flat.grad = cat(weights, 0);
            reference.step();
        }

        Assert.Equal(3, chunked.Inner.parameters().Count()); // every chunk is back in the inner optimizer's group
        var masters = cat(Enumerable.Range(0, Sizes.Length).Select(i => chunked.MasterOf($"p{i}").flatten()).ToArray(), 0);
        Assert.Equal(flat.detach().data<float>().ToArray(), masters.data<float>().ToArray());
        Assert.NotEqual(cat(initial, 0).data<float>().ToArray(), masters.data<float>().ToArray()); // the steps moved the weights
    }

    [Theory]
    [InlineData("adamw")]
    [InlineData("rprop")]
    public void Every_chunk_is_written_back_to_the_working_weights_of_each_dtype_and_its_gradients_cleared(string optimizer)
    {
        // Masters are laid out float32, bfloat16, float16: chunk 1 holds the end of the float32 group and
        // the start of the bfloat16 one, chunk 2 the end of the bfloat16 group and the float16 one.
        manual_seed(11);
        var dtypes = new[] { ScalarType.Float32, ScalarType.BFloat16, ScalarType.Float16 };
        var parameters = Sizes.Zip(dtypes, (n, dtype) => new Parameter(randn(n).to(dtype), requires_grad: true)).ToArray();
        var initial = parameters.Select(p => p.detach().to(ScalarType.Float32).data<float>().ToArray()).ToArray();
        using var opt = new MasterWeightOptimizer(parameters.Select((p, i) => ($"p{i}", p)), ps => Build(optimizer, ps));
        opt.Warning += (_, _) => { }; // the float16 parameter trains unscaled on purpose

        using (var scope = NewDisposeScope())
            Assert.True(opt.Step(parameters.Select(p => (p.to(ScalarType.Float32) * 3).sum()).Aggregate((a, b) => a + b)).Applied);

        for (var i = 0; i < parameters.Length; i++)
        {
            var master = opt.MasterOf($"p{i}");
            var working = parameters[i].detach().to(ScalarType.Float32).data<float>().ToArray();
            Assert.Equal(master.to(dtypes[i]).to(ScalarType.Float32).data<float>().ToArray(), working);
            Assert.NotEqual(initial[i], working);
            Assert.Equal(0, opt.GradientOf($"p{i}").count_nonzero().item<long>());
        }
    }

    [Fact]
    public void Micro_batch_gradients_of_bf16_parameters_sum_exactly_across_chunks()
    {
        // The first micro-batch's fold copies, later ones add chunk by chunk; small integers are exact
        // in bfloat16 and their sums exact in float32.
        manual_seed(5);
        var parameters = Sizes.Select(n => new Parameter(randn(n).to(ScalarType.BFloat16), requires_grad: true)).ToArray();
        using var opt = new MasterWeightOptimizer(parameters.Select((p, i) => ($"p{i}", p)), ps => optim.SGD(ps, 0.1));
        var batches = Enumerable.Range(0, 3).Select(_ => Sizes.Select(n => randint(-8, 9, n).to(ScalarType.Float32)).ToArray()).ToArray();

        foreach (var weights in batches)
        {
            using var scope = NewDisposeScope();
            opt.Backward(parameters.Zip(weights, (p, w) => (p.to(ScalarType.Float32) * w).sum()).Aggregate((a, b) => a + b));
        }

        Assert.Equal(3, opt.PendingMicroBatches);
        for (var i = 0; i < Sizes.Length; i++)
        {
            var expected = (batches[0][i] + batches[1][i] + batches[2][i]).data<float>().ToArray();
            Assert.Equal(expected, opt.GradientOf($"p{i}").data<float>().ToArray());
        }
    }
}
