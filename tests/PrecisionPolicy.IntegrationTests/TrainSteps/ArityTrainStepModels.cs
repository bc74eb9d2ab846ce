using PrecisionPolicy;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.IntegrationTests.TrainSteps;

/// <summary>A two-input module: the generated TrainStep takes (query, memory, target, lossFunction).</summary>
[Autocast(Precision.BF16)]
public sealed partial class TwoInputModel : Module<Tensor, Tensor, Tensor>
{
    private readonly Linear left = Linear(4, 4);
    private readonly Linear right = Linear(4, 4);

    public TwoInputModel() : base(nameof(TwoInputModel)) => RegisterComponents();

    public override Tensor forward(Tensor query, Tensor memory) => left.call(query) + right.call(memory);
}

/// <summary>A six-input module (TorchSharp's widest tensor Module): one projection per input, summed.</summary>
[Autocast(Precision.FP16)]
public sealed partial class SixInputModel : Module<Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor>
{
    private readonly Linear a = Linear(4, 4);
    private readonly Linear b = Linear(4, 4);
    private readonly Linear c = Linear(4, 4);

    public SixInputModel() : base(nameof(SixInputModel)) => RegisterComponents();

    // "target" is a TrainStep parameter already: the generated step names these input1 ... input6.
    public override Tensor forward(Tensor x1, Tensor x2, Tensor x3, Tensor x4, Tensor x5, Tensor target) =>
        a.call(x1 + x2) + b.call(x3 * x4) + c.call(x5 - target);
}
