// Source: https://github.com/pytorch/pytorch/pull/133085
// The Llama RMSNorm: upcast to float32, pow and mean there, cast back to the input dtype.
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

    public TinyLlama(int vocab, int dim) : base(nameof(TinyLlama))
    {
        embed = nn.Embedding(vocab, dim, dtype: ScalarType.Float16);
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids)
    {
        var hidden = embed.call(ids);
        var h32 = hidden.to(ScalarType.Float32);
        var variance = h32.pow(2).mean(new long[] { -1 }, keepdim: true);
        return (h32 * torch.rsqrt(variance + 1e-6)).to(hidden.dtype);
    }
}
