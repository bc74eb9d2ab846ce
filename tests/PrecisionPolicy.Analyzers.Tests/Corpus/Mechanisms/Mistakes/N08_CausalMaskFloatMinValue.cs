// Source: https://github.com/tatp22/linformer-pytorch/pull/19
// The causal mask value (-1e10 there, float.MinValue here) is not representable in float16 mixed precision; -inf is.
// Expected: PP0021
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Linformer
{
    public static Tensor Attend(Tensor q, Tensor k, Tensor causal)
    {
        var scores = torch.matmul(q.to(torch.float16), k.to(torch.float16).transpose(-2, -1));
        scores.masked_fill_(causal, float.MinValue);
        return scores;
    }
}
