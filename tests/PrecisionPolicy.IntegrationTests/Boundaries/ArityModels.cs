using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.IntegrationTests.Boundaries;

/// <summary>
/// Every TorchSharp module family whose forward takes more than one tensor or tuples: the RNN family,
/// EmbeddingBag and Bilinear called directly, attention and transformer modules inside a library-style
/// child the generator cannot see into. Only [Autocast] and partial were added to an ordinary module.
/// </summary>
[Autocast(Precision.BF16)]
public sealed partial class ArityZoo : Module<Tensor, Tensor>
{
    public const int Width = 8;
    public const int Vocabulary = 10;

    private readonly LSTM lstm;
    private readonly GRU gru;
    private readonly RNN rnn;
    private readonly LSTMCell lstmCell;
    private readonly GRUCell gruCell;
    private readonly RNNCell rnnCell;
    private readonly Module<Tensor, Tensor> composites; // typed as its base, as a library's module would be
    private readonly EmbeddingBag bag;
    private readonly Bilinear bilinear;
    private readonly Linear head;

    public ArityZoo() : base(nameof(ArityZoo))
    {
        lstm = LSTM(Width, Width, batchFirst: true);
        gru = GRU(Width, Width, batchFirst: true);
        rnn = RNN(Width, Width, batchFirst: true);
        lstmCell = LSTMCell(Width, Width);
        gruCell = GRUCell(Width, Width);
        rnnCell = RNNCell(Width, Width);
        composites = new NativeComposites(Width);
        bag = EmbeddingBag(Vocabulary, Width, mode: EmbeddingBagMode.Mean);
        bilinear = Bilinear(Width, Width, Width);
        head = Linear(Width, 1);
        RegisterComponents();
    }

    /// <summary><paramref name="x"/>: (batch, time, width) floats; every family runs on it in turn.</summary>
    public override Tensor forward(Tensor x)
    {
        var batch = x.shape[0];
        var h0 = zeros(1, batch, Width);
        var (sequence, _, _) = lstm.call(x, (h0, h0));
        var (gruOut, _) = gru.call(sequence, h0);
        var (rnnOut, _) = rnn.call(gruOut, h0);

        var (h, c) = lstmCell.call(rnnOut[.., -1], (zeros(batch, Width), zeros(batch, Width)));
        h = gruCell.call(h, zeros(batch, Width));
        h = rnnCell.call(h, zeros(batch, Width));

        var mixed = composites.call(rnnOut.transpose(0, 1)); // (time, batch, width): TorchSharp's transformer layout
        var tokens = arange(batch * 3, dtype: ScalarType.Int64).remainder(Vocabulary).reshape(batch, 3);
        var paired = bilinear.call(mixed[-1] + h + c, bag.call(tokens));
        return head.call(paired);
    }
}

/// <summary>
/// TorchSharp's attention and transformer modules in a module without a policy of its own, as a
/// library would ship them: only the boundary hooks of its leaves put it under the parent's policy.
/// </summary>
public sealed class NativeComposites : Module<Tensor, Tensor>
{
    private readonly MultiheadAttention attention;
    private readonly TransformerEncoderLayer encoderLayer;
    private readonly TransformerDecoderLayer decoderLayer;
    private readonly TransformerEncoder encoder;
    private readonly TransformerDecoder decoder;
    private readonly Transformer transformer;

    public NativeComposites(int width) : base(nameof(NativeComposites))
    {
        attention = MultiheadAttention(width, 2);
        encoderLayer = TransformerEncoderLayer(width, 2, 16, 0.0);
        decoderLayer = TransformerDecoderLayer(width, 2, 16, 0.0);
        encoder = TransformerEncoder(TransformerEncoderLayer(width, 2, 16, 0.0), 1);
        decoder = TransformerDecoder(TransformerDecoderLayer(width, 2, 16, 0.0), 1);
        transformer = Transformer(width, 2, 1, 1, 16, 0.0);
        RegisterComponents();
    }

    public override Tensor forward(Tensor sequence)
    {
        var attended = attention.call(sequence, sequence, sequence).Item1;
        var memory = encoder.call(encoderLayer.call(attended));
        var decoded = decoder.call(decoderLayer.call(sequence, memory), memory);
        return transformer.call(decoded, sequence);
    }
}
