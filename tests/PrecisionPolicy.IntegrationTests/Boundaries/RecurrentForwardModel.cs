using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.IntegrationTests.Boundaries;

/// <summary>
/// Recurrent layers and EmbeddingBag called with <c>forward(...)</c>, which runs no boundary hooks: FP32
/// hidden-state tuples and per-sample weights reach them, and the generated interceptor must cast them as
/// the module's hook would (BF16 for recurrent weights, FP32 for the bag's table).
/// </summary>
[Autocast(Precision.BF16)]
public sealed partial class RecurrentForwardModel : Module<Tensor, Tensor>
{
    public const int Width = 4;
    private readonly LSTM lstm = LSTM(Width, Width, batchFirst: true);
    private readonly GRU gru = GRU(Width, Width, batchFirst: true);
    private readonly LSTMCell lstmCell = LSTMCell(Width, Width);
    private readonly GRUCell gruCell = GRUCell(Width, Width);
    private readonly EmbeddingBag bag = EmbeddingBag(10, Width, mode: EmbeddingBagMode.Sum);

    public RecurrentForwardModel() : base(nameof(RecurrentForwardModel)) => RegisterComponents();

    public override Tensor forward(Tensor x) => x;

    public Tensor Lstm(Tensor x, Tensor h0, Tensor c0) => lstm.forward(x, (h0, c0)).Item1;

    public Tensor Gru(Tensor x, Tensor h0) => gru.forward(x, h0).Item1;

    public Tensor Cell(Tensor x, Tensor h, Tensor c) => gruCell.forward(lstmCell.forward(x, (h, c)).Item1, h);

    public Tensor Bag(Tensor tokens, Tensor offsets, Tensor weights) => bag.forward(tokens, offsets, weights);
}
