using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PrecisionPolicy.Modules;

/// <summary>
/// A drop-in for TorchSharp's <c>nn.TransformerEncoderLayer</c> (post-norm, sequence-first; same
/// constructor parameters and state-dict names: <c>self_attn.*</c>, <c>linear1.*</c>,
/// <c>linear2.*</c>, <c>norm1.*</c>, <c>norm2.*</c>) built from managed ops, so under a precision
/// policy its GEMMs run in the compute dtype and its softmax and LayerNorms in FP32.
/// </summary>
public sealed class TransformerEncoderLayer : nn.Module<Tensor, Tensor>, nn.IModule<Tensor, Tensor, Tensor>, nn.IModule<Tensor, Tensor, Tensor, Tensor>
{
    private readonly MultiheadAttention self_attn;
    private readonly Linear linear1;
    private readonly Linear linear2;
    private readonly LayerNorm norm1;
    private readonly LayerNorm norm2;
    private readonly double dropout;
    private readonly nn.Activations activation;
    private readonly long dModel;
    private readonly long heads;
    private readonly long feedForward;

    /// <summary>Creates the layer.</summary>
    /// <param name="d_model">Features of the inputs.</param>
    /// <param name="nhead">Attention heads.</param>
    /// <param name="dim_feedforward">Width of the feed-forward network.</param>
    /// <param name="dropout">Dropout probability.</param>
    /// <param name="activation">Feed-forward activation: ReLU or GELU.</param>
    public TransformerEncoderLayer(long d_model = 512, long nhead = 8, long dim_feedforward = 2048, double dropout = 0.1, nn.Activations activation = nn.Activations.ReLU)
        : base(nameof(TransformerEncoderLayer))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dim_feedforward);
        self_attn = new MultiheadAttention(d_model, nhead, dropout);
        linear1 = nn.Linear(d_model, dim_feedforward);
        linear2 = nn.Linear(dim_feedforward, d_model);
        norm1 = nn.LayerNorm(d_model);
        norm2 = nn.LayerNorm(d_model);
        this.dropout = dropout;
        this.activation = PolicyOps.CheckActivation(activation);
        (dModel, heads, feedForward) = (d_model, nhead, dim_feedforward);
        RegisterComponents();
    }

    /// <summary>The layer on <paramref name="src"/> (S, N, E) with an attention mask and a key padding mask (either may be null).</summary>
    public Tensor call(Tensor src, Tensor? src_mask, Tensor? src_key_padding_mask) => Layer(src, src_mask, src_key_padding_mask);

    /// <summary>The layer with an attention mask.</summary>
    public Tensor call(Tensor src, Tensor? src_mask) => Layer(src, src_mask, null);

    /// <inheritdoc/>
    public override Tensor forward(Tensor src) => Layer(src, null, null);

    /// <summary>A new layer with the same configuration and a copy of this layer's parameters (TransformerEncoder stacks copies).</summary>
    internal TransformerEncoderLayer Copy()
    {
        var copy = new TransformerEncoderLayer(dModel, heads, feedForward, dropout, activation);
        copy.load_state_dict(state_dict());
        return copy;
    }

    private Tensor Layer(Tensor src, Tensor? mask, Tensor? keyPaddingMask)
    {
        ArgumentNullException.ThrowIfNull(src);
        var attended = self_attn.call(src, src, src, keyPaddingMask, need_weights: false, attn_mask: mask).Item1;
        var x = PolicyOps.LayerNorm(norm1, src + Dropout(attended));
        var hidden = Dropout(PolicyOps.Activate(PolicyOps.LinearModule(linear1, x), activation));
        return PolicyOps.LayerNorm(norm2, x + Dropout(PolicyOps.LinearModule(linear2, hidden)));
    }

    private Tensor Dropout(Tensor x) => dropout > 0 && training ? nn.functional.dropout(x, dropout, training) : x;
}
