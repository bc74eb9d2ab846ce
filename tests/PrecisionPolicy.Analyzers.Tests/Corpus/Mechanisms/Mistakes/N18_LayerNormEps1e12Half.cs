// Source: https://github.com/pytorch/pytorch/issues/41527
// layer_norm with eps=1e-12 returns NaN for an all-zero float16 row: the eps is 0 in float16.
// Expected: PP0009
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class ZeroRows
{
    public static Tensor Norm(int dim)
    {
        var input = torch.zeros(1, dim).half();
        var weight = torch.ones(dim).half();
        var bias = torch.zeros(dim).half();
        return nn.functional.layer_norm(input, new long[] { dim }, weight, bias, eps: 1e-12);
    }
}
