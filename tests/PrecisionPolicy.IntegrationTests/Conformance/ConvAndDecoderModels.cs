using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.IntegrationTests.Conformance;

// Models as a TorchSharp user writes them; [Autocast] and partial are the only additions. The token
// sequence is read as a one-channel (length × vocabulary) one-hot image by the CNNs.

/// <summary>
/// A ResNet-style CNN: Sequential stem (Conv2d, BatchNorm2d, ReLU), one residual block, average pooling over
/// the sequence axis (the vocabulary axis carries the class) and a Linear head.
/// </summary>
[Autocast(Precision.BF16)]
public sealed partial class ResidualCnn : Module<Tensor, Tensor>
{
    private readonly long vocabulary;
    private readonly Sequential stem;
    private readonly Sequential block;
    private readonly Linear head;

    public ResidualCnn(long vocabulary, long width, long classes) : base(nameof(ResidualCnn))
    {
        this.vocabulary = vocabulary;
        stem = Sequential(Conv2d(1, width, 3, padding: 1), BatchNorm2d(width), ReLU());
        block = Sequential(Conv2d(width, width, 3, padding: 1), BatchNorm2d(width), ReLU(), Conv2d(width, width, 3, padding: 1), BatchNorm2d(width));
        head = Linear(width * vocabulary, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor tokens)
    {
        var image = functional.one_hot(tokens, vocabulary).to_type(ScalarType.Float32).unsqueeze(1);
        var x = stem.call(image);
        x = functional.relu(x + block.call(x));
        return head.call(x.mean(new long[] { 2 }).flatten(1));
    }
}

/// <summary>A depthwise-separable CNN (MobileNet-style): depthwise 3×3 (groups = channels), pointwise 1×1, BatchNorm, ReLU6.</summary>
[Autocast(Precision.BF16)]
public sealed partial class SeparableCnn : Module<Tensor, Tensor>
{
    private readonly long vocabulary;
    private readonly Conv2d stem;
    private readonly Conv2d depthwise;
    private readonly Conv2d pointwise;
    private readonly BatchNorm2d norm;
    private readonly Linear head;

    public SeparableCnn(long vocabulary, long width, long classes) : base(nameof(SeparableCnn))
    {
        this.vocabulary = vocabulary;
        stem = Conv2d(1, width, 3, padding: 1);
        depthwise = Conv2d(width, width, 3, padding: 1, groups: width);
        pointwise = Conv2d(width, width, 1);
        norm = BatchNorm2d(width);
        head = Linear(width * vocabulary, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor tokens)
    {
        var image = functional.one_hot(tokens, vocabulary).to_type(ScalarType.Float32).unsqueeze(1);
        var x = functional.relu6(norm.call(pointwise.call(depthwise.call(functional.relu6(stem.call(image))))));
        return head.call(x.mean(new long[] { 2 }).flatten(1)); // pooled over the sequence axis
    }
}

/// <summary>RMSNorm as LLaMA writes it: x · rsqrt(mean(x²) + eps) · weight (its own policy: its ops are outside the decoder's region).</summary>
[Autocast(Precision.BF16)]
public sealed partial class RmsNorm : Module<Tensor, Tensor>
{
    private readonly Parameter weight;

    public RmsNorm(long width) : base(nameof(RmsNorm))
    {
        weight = Parameter(ones(width));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => x * (x.pow(2).mean(new long[] { -1 }, keepdim: true) + 1e-6).rsqrt() * weight;
}

/// <summary>
/// A LLaMA-style decoder block and classifier: token embedding, RMSNorm, causal attention written with
/// matmul + softmax and rotary position embeddings, a SwiGLU feed-forward, the last position's logits.
/// </summary>
[Autocast(Precision.BF16)]
public sealed partial class LlamaDecoder : Module<Tensor, Tensor>
{
    private readonly long width;
    private readonly long heads;
    private readonly Embedding embedding;
    private readonly RmsNorm attentionNorm;
    private readonly Linear qkv;
    private readonly Linear projection;
    private readonly RmsNorm feedForwardNorm;
    private readonly Linear gate;
    private readonly Linear up;
    private readonly Linear down;
    private readonly RmsNorm finalNorm;
    private readonly Linear head;
    private readonly Tensor cos;
    private readonly Tensor sin;

    public LlamaDecoder(long vocabulary, long width, long heads, long length, long classes) : base(nameof(LlamaDecoder))
    {
        this.width = width;
        this.heads = heads;
        embedding = Embedding(vocabulary, width);
        attentionNorm = new RmsNorm(width);
        qkv = Linear(width, 3 * width, hasBias: false);
        projection = Linear(width, width, hasBias: false);
        feedForwardNorm = new RmsNorm(width);
        gate = Linear(width, 2 * width, hasBias: false);
        up = Linear(width, 2 * width, hasBias: false);
        down = Linear(2 * width, width, hasBias: false);
        finalNorm = new RmsNorm(width);
        head = Linear(width, classes);
        (cos, sin) = Rotary(length, width / heads);
        RegisterComponents();
    }

    // Rotary angles θ_i = 10000^(-2i/d) per position, computed once in FP32 (the constructor runs no policy).
    private static (Tensor Cos, Tensor Sin) Rotary(long length, long headWidth)
    {
        var inverse = pow(10000.0, -arange(0, headWidth, 2, dtype: ScalarType.Float32) / headWidth);
        var angles = outer(arange(length, dtype: ScalarType.Float32), inverse);
        return (angles.cos().DetachFromDisposeScope(), angles.sin().DetachFromDisposeScope());
    }

    private Tensor Rotate(Tensor x)
    {
        var even = x[.., .., .., TensorIndex.Slice(0, null, 2)];
        var odd = x[.., .., .., TensorIndex.Slice(1, null, 2)];
        var (c, s) = (cos.to(x.device), sin.to(x.device));
        return stack(new[] { even * c - odd * s, even * s + odd * c }, -1).flatten(-2);
    }

    public override Tensor forward(Tensor tokens)
    {
        var (batch, length) = (tokens.shape[0], tokens.shape[1]);
        var headWidth = width / heads;
        var x = embedding.call(tokens);

        var split = qkv.call(attentionNorm.call(x)).view(batch, length, 3, heads, headWidth).permute(2, 0, 3, 1, 4);
        var (q, k, v) = (Rotate(split[0]), Rotate(split[1]), split[2]);
        var scores = matmul(q, k.transpose(-2, -1)) / Math.Sqrt(headWidth);
        var causal = ones(length, length, dtype: ScalarType.Bool, device: tokens.device).triu(1);
        var attention = functional.softmax(scores.masked_fill(causal, float.NegativeInfinity), -1);
        x = x + projection.call(matmul(attention, v).transpose(1, 2).reshape(batch, length, width));

        var h = feedForwardNorm.call(x);
        x = x + down.call(functional.silu(gate.call(h)) * up.call(h));
        return head.call(finalNorm.call(x)[.., -1]);
    }
}
