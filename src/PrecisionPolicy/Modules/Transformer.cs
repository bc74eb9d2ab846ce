using System;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Modules;

/// <summary>
/// A drop-in for TorchSharp's <c>nn.Transformer</c>: a policy-aware <see cref="TransformerEncoder"/>
/// and <see cref="TransformerDecoder"/>, each with a final LayerNorm (state-dict names
/// <c>encoder.*</c>, <c>decoder.*</c> as TorchSharp's), sequence-first.
/// </summary>
public sealed class Transformer : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly TransformerEncoder encoder;
    private readonly TransformerDecoder decoder;

    /// <summary>Creates the model.</summary>
    /// <param name="d_model">Features of the encoder and decoder inputs.</param>
    /// <param name="nhead">Attention heads.</param>
    /// <param name="num_encoder_layers">Encoder layers.</param>
    /// <param name="num_decoder_layers">Decoder layers.</param>
    /// <param name="dim_feedforward">Width of the feed-forward networks.</param>
    /// <param name="dropout">Dropout probability.</param>
    /// <param name="activation">Feed-forward activation: ReLU or GELU.</param>
    public Transformer(long d_model = 512, long nhead = 8, long num_encoder_layers = 6, long num_decoder_layers = 6, long dim_feedforward = 2048,
        double dropout = 0.1, nn.Activations activation = nn.Activations.ReLU) : base(nameof(Transformer))
    {
        encoder = new TransformerEncoder(new TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation), num_encoder_layers, nn.LayerNorm(d_model));
        decoder = new TransformerDecoder(new TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout, activation), num_decoder_layers, nn.LayerNorm(d_model));
        RegisterComponents();
    }

    /// <summary>Encodes <paramref name="src"/> (S, N, E) and decodes <paramref name="tgt"/> (T, N, E) against it, with masks (any may be null).</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Style", "IDE1006", Justification = "Named as TorchSharp's own call overloads, which it mirrors.")]
    public Tensor call(Tensor src, Tensor tgt, Tensor? src_mask, Tensor? tgt_mask = null, Tensor? memory_mask = null, Tensor? src_key_padding_mask = null,
        Tensor? tgt_key_padding_mask = null, Tensor? memory_key_padding_mask = null)
    {
        ArgumentNullException.ThrowIfNull(src);
        ArgumentNullException.ThrowIfNull(tgt);
        var memory = encoder.call(src, src_mask!, src_key_padding_mask!);
        return decoder.call(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask);
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor src, Tensor tgt) => call(src, tgt, null);
}
