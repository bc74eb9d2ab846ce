// Source: https://github.com/EleutherAI/gpt-neox/issues/405
// Gradient accumulation done right: backward per micro-batch, one step after the loop.
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
            (nn.functional.mse_loss(model.call(xs[micro]), ys[micro]) / gradientAccumulationSteps).backward();
        }

        nn.utils.clip_grad_norm_(model.parameters(), 1.0);
        opt.step();
        opt.zero_grad();
    }
}
