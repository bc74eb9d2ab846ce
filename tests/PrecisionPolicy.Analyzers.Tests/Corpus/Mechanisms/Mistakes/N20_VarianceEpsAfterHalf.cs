// Source: https://github.com/deepspeedai/DeepSpeed/issues/581
// epsilon (1e-12) is added to the variance after it is converted to float16; a zero variance stays zero and rsqrt gives inf.
// Expected: PP0009
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Normalize
{
    public static Tensor Apply(Tensor vals)
    {
        var v = vals.half();
        var variance = (v - v.mean(new long[] { -1 }, keepdim: true)).square().mean(new long[] { -1 }, keepdim: true);
        return v * (variance + 1e-12).rsqrt();
    }
}
