// Source: https://github.com/EleutherAI/gpt-neox/pull/1016
// model.bfloat16() converts the inv_freq buffer too, and t = arange(seq_len).type_as(inv_freq) cannot tell 256 from 257 in bfloat16.
// Expected: PP0022
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public sealed class RotaryEmbedding : nn.Module<long, Tensor>
{
    private readonly Tensor invFreq;

    public RotaryEmbedding(int dim) : base(nameof(RotaryEmbedding))
    {
        invFreq = (1.0 / torch.pow(10000, torch.arange(0, dim, 2).@float() / dim)).bfloat16();
        register_buffer("inv_freq", invFreq);
    }

    public override Tensor forward(long seqLen)
    {
        var t = torch.arange(seqLen).type_as(invFreq);
        return torch.outer(t, invFreq);
    }
}
