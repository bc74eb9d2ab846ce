// Source: https://github.com/espnet/espnet/pull/2362
// scaler.update must be invoked at every iteration even when the step is skipped; here it is never called.
// Expected: PP0014
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using PrecisionPolicy.Scaling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public sealed class Trainer
{
    private readonly LossScaler scaler = new();

    public void Step(Linear model, optim.Optimizer opt, Tensor loss)
    {
        loss.mul(scaler.Scale).backward();
        foreach (var p in model.parameters()) p.grad!.div_(scaler.Scale);
        if (model.parameters().All(p => torch.isfinite(p.grad!).all().item<bool>()))
        {
            opt.step();
        }
    }
}
