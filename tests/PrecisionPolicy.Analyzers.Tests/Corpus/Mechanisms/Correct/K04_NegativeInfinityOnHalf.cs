// Source: https://github.com/tatp22/linformer-pytorch/pull/19
// -inf has its own representation in float16.
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
        scores.masked_fill_(causal, float.NegativeInfinity);
        return scores;
    }
}
