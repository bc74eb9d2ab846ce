// Source: https://github.com/pytorch/pytorch/issues/8860
// Keeping the weights in float32: Adam's default eps is fine.
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Fp32Adam
{
    public static void Train(Tensor x, Tensor y)
    {
        var model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 10));
        var opt = optim.Adam(model.parameters(), 1e-3);
        nn.functional.cross_entropy(model.call(x), y).backward();
        opt.step();
    }
}
