using System;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.IntegrationTests.Boundaries;

public sealed class RecurrentForwardTests : IDisposable
{
    private readonly DisposeScope scope = NewDisposeScope();

    public RecurrentForwardTests() => manual_seed(5);

    public void Dispose() => scope.Dispose();

    [Fact]
    public void Recurrent_forward_casts_fp32_inputs_and_hidden_state_tuples_to_the_bf16_weights()
    {
        var model = new RecurrentForwardModel().ApplyPrecisionPolicy();
        var w = RecurrentForwardModel.Width;
        var h0 = zeros(1, 2, w);
        Assert.Equal(ScalarType.BFloat16, model.Lstm(randn(2, 3, w), h0, h0).dtype);
        Assert.Equal(ScalarType.BFloat16, model.Gru(randn(2, 3, w), h0).dtype);
        Assert.Equal(ScalarType.BFloat16, model.Cell(randn(2, w), zeros(2, w), zeros(2, w)).dtype);
    }

    [Fact]
    public void EmbeddingBag_forward_keeps_the_fp32_table_and_casts_bf16_per_sample_weights_to_it()
    {
        var model = new RecurrentForwardModel().ApplyPrecisionPolicy();
        var tokens = tensor(new long[] { 1, 2, 3, 4 });
        var offsets = tensor(new long[] { 0, 2 });
        var result = model.Bag(tokens, offsets, ones(4).to(ScalarType.BFloat16));
        Assert.Equal(ScalarType.Float32, result.dtype);
        Assert.Equal(new long[] { 2, RecurrentForwardModel.Width }, result.shape);
    }
}
