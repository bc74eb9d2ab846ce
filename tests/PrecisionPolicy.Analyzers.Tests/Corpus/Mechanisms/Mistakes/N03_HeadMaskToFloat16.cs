// Source: https://github.com/NVIDIA/apex/issues/1105
// attn_scores_head.masked_fill(head_mask == 0, -1e10) in mixed precision: value cannot be converted to type at::Half without overflow.
// Expected: PP0021
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class HeadAttention
{
    public static Tensor Scores(Tensor q, Tensor k, Tensor headMask)
    {
        var scores = q.to(ScalarType.Float16).matmul(k.to(ScalarType.Float16).transpose(-2, -1));
        return scores.masked_fill(headMask.eq(0), -1e10);
    }
}
