using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.IntegrationTests.Conformance;

// Models as a TorchSharp user writes them; [Autocast] and partial are the only additions.

/// <summary>An LSTM sequence classifier: embedding, one LSTM layer, a Linear head on the last step.</summary>
[Autocast(Precision.BF16)]
public sealed partial class LstmClassifier : Module<Tensor, Tensor>
{
    private readonly Embedding embedding;
    private readonly LSTM lstm;
    private readonly Linear head;

    public LstmClassifier(long vocabulary, long width, long classes) : base(nameof(LstmClassifier))
    {
        embedding = Embedding(vocabulary, width);
        lstm = LSTM(width, width, batchFirst: true);
        head = Linear(width, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor tokens)
    {
        var (sequence, _, _) = lstm.call(embedding.call(tokens));
        return head.call(sequence[.., -1]);
    }
}

/// <summary>A bag-of-words text classifier: EmbeddingBag (mean) and a two-layer MLP.</summary>
[Autocast(Precision.BF16)]
public sealed partial class BagClassifier : Module<Tensor, Tensor>
{
    private readonly EmbeddingBag bag;
    private readonly Linear hidden;
    private readonly Linear output;

    public BagClassifier(long vocabulary, long width, long classes) : base(nameof(BagClassifier))
    {
        bag = EmbeddingBag(vocabulary, width, mode: EmbeddingBagMode.Mean);
        hidden = Linear(width, width);
        output = Linear(width, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor tokens) => output.call(functional.relu(hidden.call(bag.call(tokens))));
}
