// Source: https://github.com/pytorch/examples/pull/203
// fp16 training needs a loss scale (and fp32 parameters for convergence); this loop calls backward on the unscaled loss.
// Expected: PP0004
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Imagenet
{
    public static void Step(Tensor input, Tensor target)
    {
        var model = nn.Sequential(nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 1000));
        model.half();
        var output = model.call(input.half());
        var loss = nn.functional.cross_entropy(output.@float(), target);
        loss.backward();
    }
}
