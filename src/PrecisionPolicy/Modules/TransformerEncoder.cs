using System;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PrecisionPolicy.Modules;

/// <summary>
/// A drop-in for TorchSharp's <c>nn.TransformerEncoder</c>: <c>num_layers</c> copies of a
/// policy-aware <see cref="TransformerEncoderLayer"/> (state-dict names <c>layers.{i}.*</c>, and
/// <c>norm.*</c> when a final LayerNorm is given, as inside <see cref="Transformer"/>).
/// </summary>
public sealed class TransformerEncoder : nn.Module<Tensor, Tensor, Tensor, Tensor>, nn.IModule<Tensor, Tensor, Tensor>, nn.IModule<Tensor, Tensor>
{
    private readonly ModuleList<TransformerEncoderLayer> layers;
    private readonly LayerNorm? norm;

    /// <summary>Stacks <paramref name="num_layers"/> copies of <paramref name="encoder_layer"/> (each starts from its parameters).</summary>
    public TransformerEncoder(TransformerEncoderLayer encoder_layer, long num_layers) : this(encoder_layer, num_layers, null)
    {
    }

    internal TransformerEncoder(TransformerEncoderLayer encoder_layer, long num_layers, LayerNorm? norm) : base(nameof(TransformerEncoder))
    {
        ArgumentNullException.ThrowIfNull(encoder_layer);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(num_layers);
        layers = new ModuleList<TransformerEncoderLayer>(Enumerable.Range(0, checked((int)num_layers)).Select(_ => encoder_layer.Copy()).ToArray());
        this.norm = norm;
        RegisterComponents();
    }

    /// <summary>The stack on <paramref name="src"/> (S, N, E) with an attention mask and a key padding mask (either may be null).</summary>
    public override Tensor forward(Tensor src, Tensor? src_mask, Tensor? src_key_padding_mask)
    {
        ArgumentNullException.ThrowIfNull(src);
        var x = src;
        foreach (var layer in layers) x = layer.call(x, src_mask, src_key_padding_mask);
        return norm is null ? x : PolicyOps.LayerNorm(norm, x);
    }

    /// <summary>The stack with an attention mask.</summary>
    public Tensor call(Tensor src, Tensor? src_mask) => base.call(src, src_mask!, null!);

    /// <summary>The stack without masks.</summary>
    public Tensor call(Tensor src) => base.call(src, null!, null!);
}
