// Source: https://github.com/pytorch/pytorch/pull/133085
// RMSNorm on float16 activations: at::pow(input, 2) overflows float16 and the normalized output is zeros; the embedding is float16 from its constructor.
// Expected: PP0019
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public sealed class TinyLlama : nn.Module<Tensor, Tensor>
{
    private readonly Embedding embed;
    private readonly Parameter weight;

    public TinyLlama(int vocab, int dim) : base(nameof(TinyLlama))
    {
        embed = nn.Embedding(vocab, dim, dtype: ScalarType.Float16);
        weight = new Parameter(torch.ones(dim, dtype: ScalarType.Float16));
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids)
    {
        var hidden = embed.call(ids);
        var variance = hidden.pow(2).mean(new long[] { -1 }, keepdim: true);
        return weight * (hidden * torch.rsqrt(variance + 1e-6));
    }
}
