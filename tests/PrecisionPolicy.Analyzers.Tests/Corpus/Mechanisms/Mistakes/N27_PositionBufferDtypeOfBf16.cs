// Source: https://github.com/InternLM/InternLM/issues/237
// The position embedding follows the model to bfloat16: arange(seq_len, dtype=inv_freq.dtype) with inv_freq already bfloat16.
// Expected: PP0022
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public sealed class InternRotary
{
    private readonly Tensor invFreq;

    public InternRotary(int dim)
    {
        invFreq = (1.0 / torch.pow(10000, torch.arange(0, dim, 2).@float() / dim)).to(ScalarType.BFloat16);
    }

    public Tensor Freqs(long seqLen)
    {
        var t = torch.arange(seqLen, dtype: invFreq.dtype);
        return torch.outer(t, invFreq);
    }
}
