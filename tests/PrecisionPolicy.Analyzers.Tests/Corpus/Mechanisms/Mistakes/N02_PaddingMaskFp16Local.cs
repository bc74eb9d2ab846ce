// Source: https://github.com/NVIDIA/apex/issues/93
// Masking the padding before softmax with -1e15 in a float16 CNN: the fill becomes -inf in float16 and the gradients come back NaN.
// Expected: PP0021
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class PaddedConv
{
    public static Tensor Scores(Conv1d conv, Tensor x, Tensor padding)
    {
        var h = conv.call(x).half();
        var masked = h.masked_fill(padding, -1e15);
        return masked.@float().softmax(-1);
    }
}
