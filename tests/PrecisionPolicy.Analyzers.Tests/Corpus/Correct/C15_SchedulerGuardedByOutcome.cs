// Source: https://github.com/huggingface/transformers/pull/11144
// Step the scheduler only when the optimizer step was applied.
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using PrecisionPolicy.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Trainer
{
    public static void Train(MasterWeightOptimizer opt, optim.lr_scheduler.LRScheduler lrScheduler, Tensor[] losses)
    {
        foreach (var loss in losses)
        {
            var outcome = opt.Step(loss);
            if (outcome.Applied)
            {
                lrScheduler.step();
            }
        }
    }
}
