// Source: https://github.com/EleutherAI/gpt-neox/issues/405
// If step() runs inside the micro-batch loop, the parameters are updated on every backward and nothing accumulates.
// Expected: PP0015
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Accumulation
{
    public static void Train(Linear model, optim.Optimizer opt, Tensor[] xs, Tensor[] ys, int gradientAccumulationSteps)
    {
        for (var micro = 0; micro < gradientAccumulationSteps; micro++)
        {
            var loss = nn.functional.mse_loss(model.call(xs[micro]), ys[micro]) / gradientAccumulationSteps;
            loss.backward();
            opt.step();
        }

        opt.zero_grad();
    }
}
