using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.Reduce;

/// <summary>The BF16 regression MLP the reduce comparison trains.</summary>
[Autocast(Precision.BF16)]
internal sealed partial class ReduceMlp : Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly Linear fc2;

    public ReduceMlp(int inputs, int hidden, int outputs) : base(nameof(ReduceMlp))
    {
        fc1 = Linear(inputs, hidden);
        fc2 = Linear(hidden, outputs);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => fc2.call(functional.gelu(fc1.call(x)));
}
