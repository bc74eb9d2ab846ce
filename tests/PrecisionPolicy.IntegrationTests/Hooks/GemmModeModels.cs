using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.IntegrationTests.Hooks;

// Two ways to reach the same layers: through an interceptor (a field called in forward) and through a Sequential
// (TorchSharp calls its children: only the module's hooks see them). The layers are handed in, so both models can
// hold the very same Conv2d and Linear.

/// <summary>A convolution and a Linear called from forward: each call is intercepted.</summary>
[Autocast(Precision.BF16)]
public sealed partial class InterceptedLayers : Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly Linear fc;

    public InterceptedLayers(Conv2d conv, Linear fc) : base(nameof(InterceptedLayers))
    {
        this.conv = conv;
        this.fc = fc;
        RegisterComponents();
    }

    public override Tensor forward(Tensor images) => fc.call(conv.call(images).flatten(1));
}

/// <summary>The same layers inside a Sequential: no interceptor sees their calls.</summary>
[Autocast(Precision.BF16)]
public sealed partial class SequentialLayers : Module<Tensor, Tensor>
{
    private readonly Sequential body;

    public SequentialLayers(Conv2d conv, Linear fc) : base(nameof(SequentialLayers))
    {
        body = Sequential(("conv", conv), ("flatten", Flatten()), ("fc", fc));
        RegisterComponents();
    }

    public override Tensor forward(Tensor images) => body.call(images);
}
