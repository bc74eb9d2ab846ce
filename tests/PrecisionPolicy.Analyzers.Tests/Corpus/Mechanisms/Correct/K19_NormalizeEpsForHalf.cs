// Source: https://github.com/huggingface/diffusers/pull/13316
// normalize on float16 with an eps float16 can hold.
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Embeddings
{
    public static Tensor Unit(Tensor features)
    {
        var x = features.half();
        return nn.functional.normalize(x, dim: -1, eps: 1e-4);
    }
}
