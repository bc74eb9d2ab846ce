// Source: https://github.com/verl-project/verl/pull/436
// The loss divided by the number of micro-batches (a weight named like a scale), clipped once after the loop.
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Sft
{
    public static void TrainingStep(Linear model, optim.Optimizer opt, Tensor[] micro, Tensor[] targets)
    {
        var accumScale = 1.0 / micro.Length;
        for (var i = 0; i < micro.Length; i++)
        {
            (nn.functional.mse_loss(model.call(micro[i]), targets[i]) * accumScale).backward();
        }

        nn.utils.clip_grad_norm_(model.parameters(), 1.0);
        opt.step();
        opt.zero_grad();
    }
}
