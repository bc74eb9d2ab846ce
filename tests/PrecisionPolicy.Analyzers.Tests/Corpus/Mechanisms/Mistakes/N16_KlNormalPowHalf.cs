// Source: https://github.com/NVIDIA/apex/issues/812
// The Normal-Normal KL of a VAE on float16 scales: var_ratio = (p.scale / q.scale).pow(2) blows up.
// Expected: PP0019
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Kl
{
    public static Tensor NormalNormal(Tensor pLoc, Tensor pScale, Tensor qLoc, Tensor qScale)
    {
        var ps = pScale.half();
        var qs = qScale.half();
        var varRatio = (ps / qs).pow(2);
        var t1 = ((pLoc.half() - qLoc.half()) / qs).pow(2);
        return 0.5 * (varRatio + t1 - 1 - varRatio.log());
    }
}
