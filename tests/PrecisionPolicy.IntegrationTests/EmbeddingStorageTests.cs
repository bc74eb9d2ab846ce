using System;
using System.Linq;
using PrecisionPolicy.Casting;
using PrecisionPolicy.CompilerServices;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.IntegrationTests;

/// <summary>Embedding tables and their outputs stay FP32 as under PyTorch autocast; BF16 storage is a memory option.</summary>
public sealed class EmbeddingStorageTests() : NativeGemmTests(9)
{
    [Fact]
    public void Embedding_tables_and_outputs_stay_fp32_while_the_gemms_are_bf16()
    {
        var model = new TinyTransformer(vocabulary: 8, context: 4, width: 8, heads: 2).ApplyPrecisionPolicy();
        var dtypes = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.dtype);
        var tokens = (Embedding)model.named_children().Single(c => c.name == "tokens").module;
        ScalarType? embedded = null;
        tokens.register_forward_hook((_, _, output) =>
        {
            embedded = output.dtype;
            return output;
        });
        model.call(tensor(new long[,] { { 1, 2, 3 } }));
        Assert.Equal((ScalarType.Float32, ScalarType.Float32, ScalarType.BFloat16), (dtypes["tokens.weight"], dtypes["positions.weight"], dtypes["qkv.weight"]));
        Assert.Equal(ScalarType.Float32, embedded); // the residual stream starts FP32
    }

    private sealed class Bags : Module<Tensor, Tensor, Tensor>
    {
        private readonly EmbeddingBag bag = EmbeddingBag(10, 4, mode: EmbeddingBagMode.Sum);
        private readonly Embedding table = Embedding(10, 4);

        public Bags() : base(nameof(Bags)) => RegisterComponents();

        public override Tensor forward(Tensor indices, Tensor weights) =>
            bag.call(indices, null, weights) + table.call(indices).sum(1);
    }

    [Theory]
    [InlineData(false, ScalarType.Float32)]
    [InlineData(true, ScalarType.BFloat16)]
    public void Low_precision_embeddings_are_an_explicit_option(bool lowPrecisionEmbeddings, ScalarType expected)
    {
        var model = new Bags();
        ModulePolicy.Apply(model, new PrecisionPlan(nameof(Bags), Precision.BF16, Array.Empty<string>(),
            output: AutocastOutput.Compute, lowPrecisionEmbeddings: lowPrecisionEmbeddings));
        // Per-sample weights arrive in the other dtype: the bag's boundary hook casts them to its table's.
        var other = expected == ScalarType.Float32 ? ScalarType.BFloat16 : ScalarType.Float32;
        var result = model.call(tensor(new long[,] { { 1, 2 }, { 3, 4 } }), ones(2, 2).to(other));
        Assert.Equal(new[] { expected }, model.parameters().Select(p => p.dtype).Distinct());
        Assert.Equal(expected, result.dtype);
    }
}
