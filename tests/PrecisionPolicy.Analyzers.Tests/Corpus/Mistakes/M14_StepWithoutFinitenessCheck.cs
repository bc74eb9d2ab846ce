// Source: https://github.com/pytorch/pytorch/pull/26512
// GradScaler skips optimizer.step() when the unscaled gradients hold inf/NaN; a hand-driven loop that never checks steps on them.
// Expected: PP0014
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using PrecisionPolicy.Scaling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class ManualScaling
{
    public static void Step(Linear model, optim.Optimizer opt, Tensor loss)
    {
        var scaler = new LossScaler();
        var scaled = loss * scaler.Scale;
        scaled.backward();
        foreach (var p in model.parameters()) p.grad!.div_(scaler.Scale);
        opt.step();
        scaler.Update(false);
    }
}
