// Source: https://github.com/pytorch/pytorch/issues/66707
// layer_norm on float16 inputs diverges from the float32 result; it needs to be done in fp32 for fp16 inputs.
// Expected: PP0019
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class ChainedNorm
{
    public static Tensor Run(Tensor input, int width)
    {
        var h = (torch.rand(1, 5, width) * 0.1).half();
        var weight = torch.ones(width).half();
        var bias = torch.zeros(width).half();
        for (var i = 0; i < 8; i++)
        {
            h = nn.functional.layer_norm(h, new long[] { width }, weight, bias, 1e-5);
        }

        return h;
    }
}
