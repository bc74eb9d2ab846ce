using PrecisionPolicy;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.IntegrationTests.Tracing;

/// <summary>An FP16 model whose one Linear call overflows when an input exceeds 65504 (the numerics-trace tests).</summary>
[Autocast(Precision.FP16)]
public sealed partial class OverflowingMlp : Module<Tensor, Tensor>
{
    private readonly Linear first;
    private readonly Linear second;

    public OverflowingMlp() : base(nameof(OverflowingMlp))
    {
        first = Linear(4, 4);
        second = Linear(4, 2);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var hidden = first.call(x); // site: first
        return second.call(functional.relu(hidden)); // site: second
    }
}
