// Source: https://github.com/huggingface/transformers/issues/11106
// The step outcome says whether the optimizer ran, but the schedule advances unconditionally.
// Expected: PP0006
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
            Console.WriteLine(outcome.Scale);
            lrScheduler.step();
        }
    }
}
