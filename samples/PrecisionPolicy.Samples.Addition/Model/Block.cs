using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.Samples.Addition.Model;

/// <summary>Pre-norm transformer block: LayerNorm in FP32, attention and MLP in the compute precision.</summary>
[Autocast(Precision.FP8)]
public sealed partial class Block : Module<Tensor, Tensor>
{
    private readonly LayerNorm norm1;
    private readonly CausalSelfAttention attention;
    private readonly LayerNorm norm2;
    private readonly Linear expand;
    private readonly Linear contract;

    public Block(GptConfig config) : base(nameof(Block))
    {
        norm1 = LayerNorm(config.Width);
        attention = new CausalSelfAttention(config);
        norm2 = LayerNorm(config.Width);
        expand = Linear(config.Width, 4 * config.Width);
        contract = Linear(4 * config.Width, config.Width);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        x = x.add(attention.call(norm1.call(x)), Scalars.One);
        return x.add(contract.call(functional.gelu(expand.call(norm2.call(x)))), Scalars.One);
    }
}
