// Source: https://github.com/huggingface/transformers/pull/18057
// The fix: compute the softmax in float32 and cast the weights back to the attention dtype.
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Attention
{
    public static Tensor Forward(Tensor scores, Tensor v)
    {
        var weights = scores.@float().softmax(-1).half();
        return weights.matmul(v.half());
    }
}
