// Source: https://github.com/EleutherAI/gpt-neox/issues/1003
// The rotary table with inv_freq in float32: positions to 4096 are exact.
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
        var invFreq = 1.0 / torch.pow(10000, torch.arange(0, dim, 2).@float() / dim);
        var t = torch.arange(seqLen).type_as(invFreq);
        var freqs = torch.outer(t, invFreq);
        return torch.cat(new[] { freqs, freqs }, -1).half();
    }
}
