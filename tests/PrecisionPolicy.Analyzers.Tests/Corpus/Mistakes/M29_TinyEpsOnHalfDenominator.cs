// Source: https://github.com/pyg-team/pytorch_geometric/pull/2106
// EPS = 1e-15 added to a half-precision denominator is 0 in float16, giving inf/nan.
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
    private const double Eps = 1e-15;

    public static Tensor Apply(Tensor x, Tensor degree)
    {
        var d = degree.half();
        var denom = d.sqrt() + Eps;
        return x.half() / denom;
    }
}
