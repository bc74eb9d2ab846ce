using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.IntegrationTests.SharedParameters;

/// <summary>
/// A tiny GPT-style language model whose head shares the token embedding's weight, tied as GPT-2 ports write it
/// (<c>lmHead.weight = tokenEmbedding.weight</c>); [Autocast] and partial are the only additions.
/// </summary>
[Autocast(Precision.BF16)]
public sealed partial class TiedGpt : Module<Tensor, Tensor>
{
    private readonly Embedding tokenEmbedding;
    private readonly Embedding positionEmbedding;
    private readonly LayerNorm norm;
    private readonly Linear up;
    private readonly Linear down;
    private readonly LayerNorm finalNorm;
    private readonly Linear lmHead;

    public TiedGpt(long vocabulary, long width, long context) : base(nameof(TiedGpt))
    {
        tokenEmbedding = Embedding(vocabulary, width);
        positionEmbedding = Embedding(context, width);
        norm = LayerNorm(width);
        up = Linear(width, 4 * width);
        down = Linear(4 * width, width);
        finalNorm = LayerNorm(width);
        lmHead = Linear(width, vocabulary, hasBias: false);
        lmHead.weight = tokenEmbedding.weight!; // the tie
        RegisterComponents();
    }

    /// <summary>The head's weight (the Linear's own parameter object).</summary>
    public Parameter HeadWeight => lmHead.weight;

    /// <summary>The embedding's weight as the Embedding module holds it (read through native code).</summary>
    public Tensor EmbeddingWeight => tokenEmbedding.weight!;

    public override Tensor forward(Tensor tokens)
    {
        var positions = arange(tokens.shape[1], dtype: ScalarType.Int64, device: tokens.device);
        var x = tokenEmbedding.call(tokens) + positionEmbedding.call(positions);
        x = x + down.call(functional.gelu(up.call(norm.call(x))));
        return lmHead.call(finalNorm.call(x));
    }
}

/// <summary>One Linear registered under two members, one of them [HighPrecision]: a module used twice.</summary>
[Autocast(Precision.BF16)]
public sealed partial class TwiceUsedLinear : Module<Tensor, Tensor>
{
    private readonly Linear first;
    [HighPrecision] private readonly Linear again;
    private readonly Linear output;

    public TwiceUsedLinear(long width) : base(nameof(TwiceUsedLinear))
    {
        first = Linear(width, width);
        again = first;
        output = Linear(width, 2);
        RegisterComponents();
    }

    public Parameter SharedWeight => first.weight;

    public override Tensor forward(Tensor x) => output.call(functional.relu(again.call(functional.relu(first.call(x)))));
}
