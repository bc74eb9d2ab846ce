// Source: https://github.com/wandb/wandb/issues/9092
// Gradients logged on the backward pass are the scaled ones: they look massive and jump when the scale is reset.
// Expected: PP0005
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using PrecisionPolicy.Scaling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Logging
{
    public static void Step(Linear model, optim.Optimizer opt, LossScaler scaler, Tensor loss, Action<string, float> log)
    {
        var scale = scaler.Scale;
        (loss * scale).backward();
        foreach (var (name, p) in model.named_parameters())
        {
            log(name, p.grad!.abs().max().item<float>());
        }

        foreach (var p in model.parameters()) p.grad!.div_(scale);
        var overflow = model.parameters().Any(p => !torch.isfinite(p.grad!).all().item<bool>());
        if (!overflow) opt.step();
        scaler.Update(overflow);
    }
}
