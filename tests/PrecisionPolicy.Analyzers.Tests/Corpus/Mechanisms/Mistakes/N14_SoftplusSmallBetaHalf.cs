// Source: https://github.com/pytorch/pytorch/issues/187180
// softplus with a small beta on a float16 input returns +inf although the fp32 result is finite (693147 > 65504).
// Expected: PP0019
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Smooth
{
    public static Tensor Apply(Tensor input)
    {
        var x16 = input.to(ScalarType.Float16);
        return nn.functional.softplus(x16, beta: 1e-6);
    }
}
