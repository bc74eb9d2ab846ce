// Source: https://github.com/EleutherAI/gpt-neox/issues/1003
// The rotary tables are computed in the model's precision: t = arange(seqlen).type_as(inv_freq) with inv_freq half, so positions beyond 2048 are rounded.
// Expected: PP0022
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Rotary
{
    public static Tensor Table(int dim)
    {
        const int seqLen = 4096;
        var invFreq = (1.0 / torch.pow(10000, torch.arange(0, dim, 2).@float() / dim)).half();
        var t = torch.arange(seqLen).type_as(invFreq);
        var freqs = torch.outer(t, invFreq);
        return torch.cat(new[] { freqs, freqs }, -1);
    }
}
