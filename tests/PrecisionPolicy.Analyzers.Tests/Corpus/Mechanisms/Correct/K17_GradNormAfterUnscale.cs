// Source: https://github.com/languini-kitchen/languini-kitchen/pull/7
// The fix: unscale first, then compute and log the norm.
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using PrecisionPolicy.Scaling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Trainer
{
    public static double Step(Linear model, optim.Optimizer opt, LossScaler scaler, Tensor loss)
    {
        var scale = scaler.Scale;
        loss.mul(scale).backward();
        foreach (var p in model.parameters()) p.grad!.div_(scale);
        var gradNorm = 0.0;
        foreach (var p in model.parameters())
        {
            gradNorm += p.grad!.pow(2).sum().item<float>();
        }

        var overflow = model.parameters().Any(p => !torch.isfinite(p.grad!).all().item<bool>());
        if (!overflow) opt.step();
        scaler.Update(overflow);
        return Math.Sqrt(gradNorm);
    }
}
