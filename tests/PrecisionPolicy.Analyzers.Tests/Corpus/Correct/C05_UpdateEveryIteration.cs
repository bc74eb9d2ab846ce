// Source: https://github.com/espnet/espnet/pull/2362
// Update is called on every iteration, skipped steps included.
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

    public void Epoch(Linear model, optim.Optimizer opt, Tensor[] losses)
    {
        foreach (var loss in losses)
        {
            loss.mul(scaler.Scale).backward();
            foreach (var p in model.parameters()) p.grad!.div_(scaler.Scale);
            var overflow = model.parameters().Any(p => !torch.isfinite(p.grad!).all().item<bool>());
            if (!overflow) opt.step();
            opt.zero_grad();
            scaler.Update(overflow);
        }
    }
}
