// Source: https://github.com/pyg-team/pytorch_geometric/pull/2106
// EPS adjusted to the precision: 1e-5 is representable in float16.
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Normalize
{
    private const double Eps = 1e-5;

    public static Tensor Apply(Tensor x, Tensor degree)
    {
        var d = degree.half();
        return x.half() / (d.sqrt() + Eps);
    }
}
