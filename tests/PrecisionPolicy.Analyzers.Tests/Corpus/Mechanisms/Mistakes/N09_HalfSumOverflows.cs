// Source: https://github.com/pytorch/pytorch/issues/6292
// Summing a float16 tensor of 33000s: the sum exceeds 65504 and is inf (or throws); sum belongs in float32.
// Expected: PP0019
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Totals
{
    public static double Total(Tensor values)
    {
        var a = values.to(ScalarType.Float16);
        return a.sum().item<Half>() is var h ? (double)h : 0;
    }
}
