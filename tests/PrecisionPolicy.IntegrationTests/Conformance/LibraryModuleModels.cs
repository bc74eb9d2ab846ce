using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.IntegrationTests.Conformance;

// Models whose layers are compiled library code (TorchSharp's native transformer layers, TorchVision);
// [Autocast] and partial are the only additions.

/// <summary>
/// An encoder-decoder classifier from TorchSharp's own transformer layers: the token sequence through a
/// TransformerEncoderLayer, one learned query token through a TransformerDecoderLayer attending to it, a
/// Linear head. TorchSharp's layers are sequence-first: (length, batch, width).
/// </summary>
[Autocast(Precision.BF16)]
public sealed partial class EncoderDecoderClassifier : Module<Tensor, Tensor>
{
    private readonly Embedding embedding;
    private readonly Embedding query;
    private readonly TransformerEncoderLayer encoder;
    private readonly TransformerDecoderLayer decoder;
    private readonly Linear head;

    public EncoderDecoderClassifier(long vocabulary, long width, long heads, long classes) : base(nameof(EncoderDecoderClassifier))
    {
        embedding = Embedding(vocabulary, width);
        query = Embedding(1, width);
        encoder = TransformerEncoderLayer(width, heads, 2 * width, dropout: 0.0);
        decoder = TransformerDecoderLayer(width, heads, 2 * width, dropout: 0.0);
        head = Linear(width, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor tokens)
    {
        // Expected PP0103 (TorchSharp's layers run their softmax and LayerNorm in the compute dtype): this
        // model is the built-in composites as a user writes them, not the policy-aware drop-ins.
#pragma warning disable PP0103
        var memory = encoder.call(embedding.call(tokens).transpose(0, 1));
        var target = query.call(zeros(1, tokens.shape[0], dtype: ScalarType.Int64, device: tokens.device));
        return head.call(decoder.call(target, memory)[0]);
#pragma warning restore PP0103
    }
}

/// <summary>
/// TorchVision's MobileNetV2 as the child of a policy module: TorchVision builds and runs it (Sequential
/// features of Conv2d + BatchNorm2d + ReLU6 blocks with inverted residuals, a Dropout + Linear classifier),
/// so every layer is reached only through the module-boundary hooks. Narrowed (width ×0.25, two
/// inverted-residual stages) so a training step takes milliseconds on a CPU.
/// </summary>
[Autocast(Precision.BF16)]
public sealed partial class VisionClassifier : Module<Tensor, Tensor>
{
    private readonly MobileNetV2 backbone;

    public VisionClassifier(long classes) : base(nameof(VisionClassifier))
    {
        // t (expansion), c (channels before the width multiplier), n (blocks), s (first stride)
        var stages = new[] { new long[] { 1, 32, 1, 1 }, new long[] { 4, 64, 2, 2 } };
        backbone = torchvision.models.mobilenet_v2(num_classes: classes, width_mult: 0.25, inverted_residual_setting: stages, dropout: 0.0);
        RegisterComponents();
    }

    public override Tensor forward(Tensor images) => backbone.call(images);
}
