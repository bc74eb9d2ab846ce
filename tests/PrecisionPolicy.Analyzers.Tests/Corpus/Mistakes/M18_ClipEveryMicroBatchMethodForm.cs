// Source: https://github.com/mflux-community/mflux/pull/447
// Accumulating over accum_steps micro-batches while clipping on every one of them (division written as a method).
// Expected: PP0015
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Trainer
{
    public static void Train(Linear model, optim.Optimizer opt, Tensor[] xs, Tensor[] ys, int accumSteps)
    {
        for (var step = 0; step < xs.Length; step++)
        {
            nn.functional.mse_loss(model.call(xs[step]), ys[step]).div(accumSteps).backward();
            nn.utils.clip_grad_value_(model.parameters(), 0.5);
            if ((step + 1) % accumSteps == 0)
            {
                opt.step();
                opt.zero_grad();
            }
        }
    }
}
