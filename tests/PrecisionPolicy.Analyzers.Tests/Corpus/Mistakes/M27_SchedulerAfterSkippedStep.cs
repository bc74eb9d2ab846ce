// Source: https://github.com/pytorch/pytorch/issues/55585
// The scaler can skip optimizer.step() on overflow, and the scheduler is stepped regardless.
// Expected: PP0006
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using PrecisionPolicy.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Schedule
{
    public static void Train(MasterWeightOptimizer opt, optim.lr_scheduler.LRScheduler scheduler, Tensor[] losses)
    {
        foreach (var loss in losses)
        {
            opt.Step(loss);
            scheduler.step();
        }
    }
}
