// Source: https://github.com/pytorch/pytorch/issues/2391
// The reduction over float16 values accumulates and returns in float32.
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Totals
{
    public static Tensor Count(long n)
    {
        var ones = torch.ones(new long[] { n, 256 }, dtype: ScalarType.Float16);
        return ones.@float().sum();
    }
}
