// Source: https://github.com/NVIDIA/apex/pull/144
// network_to_half-style conversion that also converts BatchNorm moment tensors to half, which hurts the moment estimates.
// Expected: PP0007
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class ToHalf
{
    public static void Convert(BatchNorm1d bn)
    {
        var mean = bn.running_mean!.half();
        var variance = bn.running_var!.half();
        Console.WriteLine($"{mean.dtype} {variance.dtype}");
    }
}
