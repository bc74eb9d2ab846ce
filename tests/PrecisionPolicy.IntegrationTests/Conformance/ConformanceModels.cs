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

/// <summary>
/// An MNIST-style MLP as TorchSharp's own example writes it: children typed
/// <c>Module&lt;Tensor, Tensor&gt;</c> "so we can use 'forward' instead of 'call'" (forward runs no hooks).
/// </summary>
[Autocast(Precision.BF16)]
public sealed partial class ForwardCallingMlp : Module<Tensor, Tensor>
{
    private readonly long vocabulary;
    private readonly Module<Tensor, Tensor> fc1;
    private readonly Module<Tensor, Tensor> fc2;

    public ForwardCallingMlp(long vocabulary, long length, long classes) : base(nameof(ForwardCallingMlp))
    {
        this.vocabulary = vocabulary;
        fc1 = Linear(vocabulary * length, 32);
        fc2 = Linear(32, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor tokens)
    {
        var x = functional.one_hot(tokens, vocabulary).flatten(1).to_type(ScalarType.Float32);
        return fc2.forward(functional.relu(fc1.forward(x)));
    }
}
