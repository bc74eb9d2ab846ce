using System;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PrecisionPolicy.Modules;

/// <summary>
/// A drop-in for TorchSharp's <c>nn.TransformerDecoder</c>: <c>num_layers</c> copies of a
/// policy-aware <see cref="TransformerDecoderLayer"/> (state-dict names <c>layers.{i}.*</c>, and
/// <c>norm.*</c> when a final LayerNorm is given, as inside <see cref="Transformer"/>).
/// </summary>
public sealed class TransformerDecoder : nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor>, nn.IModule<Tensor, Tensor, Tensor>
{
    private readonly ModuleList<TransformerDecoderLayer> layers;
    private readonly LayerNorm? norm;

    /// <summary>Stacks <paramref name="num_layers"/> copies of <paramref name="decoder_layer"/> (each starts from its parameters).</summary>
    public TransformerDecoder(TransformerDecoderLayer decoder_layer, long num_layers) : this(decoder_layer, num_layers, null)
    {
    }

    internal TransformerDecoder(TransformerDecoderLayer decoder_layer, long num_layers, LayerNorm? norm) : base(nameof(TransformerDecoder))
    {
        ArgumentNullException.ThrowIfNull(decoder_layer);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(num_layers);
        layers = new ModuleList<TransformerDecoderLayer>(Enumerable.Range(0, checked((int)num_layers)).Select(_ => decoder_layer.Copy()).ToArray());
        this.norm = norm;
        RegisterComponents();
    }

    /// <summary>The stack on <paramref name="tgt"/> (T, N, E) attending to <paramref name="memory"/> (S, N, E); masks may be null.</summary>
    public override Tensor forward(Tensor tgt, Tensor memory, Tensor? tgt_mask, Tensor? memory_mask, Tensor? tgt_key_padding_mask, Tensor? memory_key_padding_mask)
    {
        ArgumentNullException.ThrowIfNull(tgt);
        var x = tgt;
        foreach (var layer in layers) x = layer.call(x, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask);
        return norm is null ? x : PolicyOps.LayerNorm(norm, x);
    }

    /// <summary>The stack with masks (any may be null).</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Style", "IDE1006", Justification = "Named as TorchSharp's own call overloads, which it mirrors.")]
    public new Tensor call(Tensor tgt, Tensor memory, Tensor? tgt_mask, Tensor? memory_mask = null, Tensor? tgt_key_padding_mask = null,
        Tensor? memory_key_padding_mask = null) =>
        base.call(tgt, memory, tgt_mask!, memory_mask!, tgt_key_padding_mask!, memory_key_padding_mask!);

    /// <summary>The stack without masks.</summary>
    public Tensor call(Tensor tgt, Tensor memory) => base.call(tgt, memory, null!, null!, null!, null!);
}
