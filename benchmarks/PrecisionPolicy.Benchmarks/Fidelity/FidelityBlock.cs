using System;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.Fidelity;

/// <summary>
/// A GPT-style pre-LN transformer block as a TorchSharp user writes it: token and position embeddings,
/// LayerNorm, causal self-attention written with Linear + matmul + softmax, residual, LayerNorm, a GELU
/// MLP, residual, a final LayerNorm and a Linear head producing per-position logits.
/// benchmarks/Fidelity/compare_with_torch.py holds the same block as a torch.nn.Module: the field
/// names here are its attribute names, so the state dicts match key for key.
/// </summary>
[Autocast(Precision.BF16)]
internal sealed partial class FidelityBlock : Module<Tensor, Tensor>
{
    private readonly long width;
    private readonly long heads;
    private readonly Embedding tokens;
    private readonly Embedding positions;
    private readonly LayerNorm norm1;
    private readonly Linear qkv;
    private readonly Linear projection;
    private readonly LayerNorm norm2;
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly LayerNorm finalNorm;
    private readonly Linear head;

    public FidelityBlock(FidelityShape shape) : base(nameof(FidelityBlock))
    {
        width = shape.Width;
        heads = shape.Heads;
        tokens = Embedding(shape.Vocabulary, shape.Width);
        positions = Embedding(shape.Length, shape.Width);
        norm1 = LayerNorm(shape.Width);
        qkv = Linear(shape.Width, 3 * shape.Width);
        projection = Linear(shape.Width, shape.Width);
        norm2 = LayerNorm(shape.Width);
        fc1 = Linear(shape.Width, 4 * shape.Width);
        fc2 = Linear(4 * shape.Width, shape.Width);
        finalNorm = LayerNorm(shape.Width);
        head = Linear(shape.Width, shape.Vocabulary);
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids)
    {
        var (batch, length) = (ids.shape[0], ids.shape[1]);
        var headWidth = width / heads;
        var x = tokens.call(ids) + positions.call(arange(length, device: ids.device));

        var split = qkv.call(norm1.call(x)).view(batch, length, 3, heads, headWidth).permute(2, 0, 3, 1, 4);
        var (q, k, v) = (split[0], split[1], split[2]);
        var scores = matmul(q, k.transpose(-2, -1)) / Math.Sqrt(headWidth);
        var causal = ones(length, length, dtype: ScalarType.Bool, device: ids.device).triu(1);
        var attention = functional.softmax(scores.masked_fill(causal, float.NegativeInfinity), -1);
        x = x + projection.call(matmul(attention, v).transpose(1, 2).reshape(batch, length, width));

        x = x + fc2.call(functional.gelu(fc1.call(norm2.call(x))));
        return head.call(finalNorm.call(x));
    }
}

/// <summary>The sizes of the fidelity block and its batch (small: native BF16 GEMMs are slow on AVX2-only CPUs).</summary>
internal sealed record FidelityShape(int Vocabulary, int Width, int Heads, int Length, int Batch);
