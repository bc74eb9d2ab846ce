// Source: https://github.com/facebookresearch/fairseq/issues/3575
// bfloat16 has float32's exponent range: -1e8 fits.
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Bf16Attention
{
    public static Tensor Scores(Tensor q, Tensor k, Tensor mask)
    {
        var scores = q.bfloat16().matmul(k.bfloat16().transpose(-2, -1));
        return scores.masked_fill(mask, -1e8);
    }
}
