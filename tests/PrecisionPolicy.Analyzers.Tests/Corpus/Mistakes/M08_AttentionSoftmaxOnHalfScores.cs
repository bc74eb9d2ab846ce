// Source: https://github.com/huggingface/transformers/pull/17437
// Attention scores cast to half before softmax: large masked scores give NaN in float16.
// Expected: PP0008
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Attention
{
    public static Tensor Forward(Tensor q, Tensor k, Tensor v)
    {
        var scores = torch.matmul(q, k.transpose(-2, -1)) / Math.Sqrt(q.shape[^1]);
        var weights = scores.half().softmax(-1);
        return weights.matmul(v.half());
    }
}
