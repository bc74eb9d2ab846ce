using System.Linq;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.Samples.Addition.Model;

/// <summary>
/// A small GPT: token and position embeddings, pre-norm blocks, a final LayerNorm and a linear
/// head. <see cref="Loss"/> runs cross-entropy inside the policy, so it is computed in FP32.
/// Declared FP8 (E4M3 forward operands, E5M2 gradients, delayed per-tensor scaling); the sample
/// also runs the same classes under FP32, BF16 and FP16 through <see cref="AutocastScope"/>.
/// </summary>
[Autocast(Precision.FP8)]
public sealed partial class TinyGpt : Module<Tensor, Tensor>
{
    private readonly Embedding tokens;
    private readonly Embedding positions;
    private readonly ModuleList<Block> blocks;
    private readonly LayerNorm finalNorm;
    private readonly Linear head;

    public TinyGpt(GptConfig config) : base(nameof(TinyGpt))
    {
        Config = config;
        tokens = Embedding(config.Vocabulary, config.Width);
        positions = Embedding(config.Context, config.Width);
        blocks = ModuleList(Enumerable.Range(0, config.Layers).Select(_ => new Block(config)).ToArray());
        finalNorm = LayerNorm(config.Width);
        head = Linear(config.Width, config.Vocabulary);
        RegisterComponents();
    }

    /// <summary>The model's size.</summary>
    public GptConfig Config { get; }

    /// <summary>Next-token logits [batch, time, vocabulary] for token ids [batch, time].</summary>
    public override Tensor forward(Tensor ids)
    {
        var time = ids.shape[1];
        var x = tokens.call(ids).add(positions.call(arange(time, device: ids.device)), Scalars.One);
        foreach (var block in blocks) x = block.call(x);
        return head.call(finalNorm.call(x));
    }

    /// <summary>
    /// Mean cross-entropy over the positions whose target is not ignored, with label smoothing:
    /// without it a solved task drives the gradients into FP32 denormals, which stall CPU kernels.
    /// </summary>
    public Tensor Loss(Tensor ids, Tensor targets)
    {
        var logits = call(ids); // call, not forward: the module hooks open the FP8 region
        return functional.cross_entropy(logits.view(-1, Config.Vocabulary), targets.view(-1),
            ignore_index: Data.AdditionTask.IgnoreIndex, label_smoothing: 0.1);
    }
}
