// Source: https://github.com/pytorch/pytorch/issues/8860
// A model cast with .half() trained by Adam with its default eps (1e-8 is 0 in float16): NaN loss after a few steps.
// Expected: PP0003
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class HalfAdam
{
    public static void Train(Tensor x, Tensor y)
    {
        var model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 10)).half();
        var opt = optim.Adam(model.parameters(), 1e-3);
        var output = model.call(x.half()).@float();
        nn.functional.cross_entropy(output, y).backward();
        opt.step();
    }
}
