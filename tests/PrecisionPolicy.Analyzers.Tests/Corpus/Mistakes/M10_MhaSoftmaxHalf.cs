// Source: https://github.com/pytorch/pytorch/issues/60939
// multi-head attention in fp16: the product of q and k overflows and the following softmax gives NaN.
// Expected: PP0008
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Mha
{
    public static Tensor Probabilities(Tensor q, Tensor k)
    {
        var attn = torch.bmm(q, k.transpose(-2, -1));
        return nn.functional.softmax(attn.half(), -1);
    }
}
