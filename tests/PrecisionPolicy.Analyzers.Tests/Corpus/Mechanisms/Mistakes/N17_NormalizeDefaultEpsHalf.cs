// Source: https://github.com/pytorch/pytorch/issues/32137
// F.normalize's default eps of 1e-12 is 0 in float16, so a zero-norm row divides 0 by 0.
// Expected: PP0009
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
        return nn.functional.normalize(x, dim: -1);
    }
}
