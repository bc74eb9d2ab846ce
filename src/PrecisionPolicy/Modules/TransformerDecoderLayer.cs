using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PrecisionPolicy.Modules;

/// <summary>
/// A drop-in for TorchSharp's <c>nn.TransformerDecoderLayer</c> (post-norm, sequence-first; same
/// constructor parameters and state-dict names: <c>self_attn.*</c>, <c>multihead_attn.*</c>,
/// <c>linear1.*</c>, <c>linear2.*</c>, <c>norm1..3.*</c>) built from managed ops, so under a
/// precision policy its GEMMs run in the compute dtype and its softmax and LayerNorms in FP32.
/// </summary>
public sealed class TransformerDecoderLayer : nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor>, nn.IModule<Tensor, Tensor, Tensor>
{
    private readonly MultiheadAttention self_attn;
    private readonly MultiheadAttention multihead_attn;
    private readonly Linear linear1;
    private readonly Linear linear2;
    private readonly LayerNorm norm1;
    private readonly LayerNorm norm2;
    private readonly LayerNorm norm3;
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
    public TransformerDecoderLayer(long d_model = 512, long nhead = 8, long dim_feedforward = 2048, double dropout = 0.1, nn.Activations activation = nn.Activations.ReLU)
        : base(nameof(TransformerDecoderLayer))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dim_feedforward);
        self_attn = new MultiheadAttention(d_model, nhead, dropout);
        multihead_attn = new MultiheadAttention(d_model, nhead, dropout);
        linear1 = nn.Linear(d_model, dim_feedforward);
        linear2 = nn.Linear(dim_feedforward, d_model);
        norm1 = nn.LayerNorm(d_model);
        norm2 = nn.LayerNorm(d_model);
        norm3 = nn.LayerNorm(d_model);
        this.dropout = dropout;
        this.activation = PolicyOps.CheckActivation(activation);
        (dModel, heads, feedForward) = (d_model, nhead, dim_feedforward);
        RegisterComponents();
    }

    /// <summary>The layer on <paramref name="tgt"/> (T, N, E) attending to <paramref name="memory"/> (S, N, E); masks may be null.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Style", "IDE1006", Justification = "Named as TorchSharp's own call overloads, which it mirrors.")]
    public new Tensor call(Tensor tgt, Tensor memory, Tensor? tgt_mask, Tensor? memory_mask = null, Tensor? tgt_key_padding_mask = null,
        Tensor? memory_key_padding_mask = null) =>
        base.call(tgt, memory, tgt_mask!, memory_mask!, tgt_key_padding_mask!, memory_key_padding_mask!);

    /// <summary>The layer without masks.</summary>
    public Tensor call(Tensor tgt, Tensor memory) => base.call(tgt, memory, null!, null!, null!, null!);

    /// <inheritdoc/>
    public override Tensor forward(Tensor tgt, Tensor memory, Tensor? tgt_mask, Tensor? memory_mask, Tensor? tgt_key_padding_mask, Tensor? memory_key_padding_mask)
    {
        ArgumentNullException.ThrowIfNull(tgt);
        ArgumentNullException.ThrowIfNull(memory);
        var attended = self_attn.call(tgt, tgt, tgt, tgt_key_padding_mask, need_weights: false, attn_mask: tgt_mask).Item1;
        var x = PolicyOps.LayerNorm(norm1, tgt + Dropout(attended));
        var crossed = multihead_attn.call(x, memory, memory, memory_key_padding_mask, need_weights: false, attn_mask: memory_mask).Item1;
        x = PolicyOps.LayerNorm(norm2, x + Dropout(crossed));
        var hidden = Dropout(PolicyOps.Activate(PolicyOps.LinearModule(linear1, x), activation));
        return PolicyOps.LayerNorm(norm3, x + Dropout(PolicyOps.LinearModule(linear2, hidden)));
    }

    /// <summary>A new layer with the same configuration and a copy of this layer's parameters (TransformerDecoder stacks copies).</summary>
    internal TransformerDecoderLayer Copy()
    {
        var copy = new TransformerDecoderLayer(dModel, heads, feedForward, dropout, activation);
        copy.load_state_dict(state_dict());
        return copy;
    }

    private Tensor Dropout(Tensor x) => dropout > 0 && training ? nn.functional.dropout(x, dropout, training) : x;
}
