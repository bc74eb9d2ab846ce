using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.IntegrationTests.Clipping;

/// <summary>A small classifier with a norm layer (FP32 parameters beside 16-bit ones), for loops that clip by hand.</summary>
[Autocast(Precision.BF16)]
public sealed partial class ClippedMlp : Module<Tensor, Tensor>
{
    private readonly Linear hidden;
    private readonly LayerNorm norm;
    private readonly Linear output;

    public ClippedMlp(long width, long classes) : base(nameof(ClippedMlp))
    {
        hidden = Linear(width, width);
        norm = LayerNorm(width);
        output = Linear(width, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => output.call(norm.call(functional.relu(hidden.call(x))));
}
