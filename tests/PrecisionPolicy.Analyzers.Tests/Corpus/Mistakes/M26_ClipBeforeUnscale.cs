// Source: https://github.com/pytorch/pytorch/issues/44511
// The documented order is unscale, then clip; here clip_grad_norm_ runs on gradients still multiplied by the scale.
// Expected: PP0005
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using PrecisionPolicy.Scaling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Amp
{
    public static void Step(Linear model, optim.Optimizer opt, LossScaler scaler, Tensor loss)
    {
        var scale = scaler.Scale;
        loss.mul(scale).backward();
        nn.utils.clip_grad_norm_(model.parameters(), 1.0);
        foreach (var p in model.parameters()) p.grad!.div_(scale);
        var overflow = model.parameters().Any(p => !torch.isfinite(p.grad!).all().item<bool>());
        if (!overflow) opt.step();
        scaler.Update(overflow);
    }
}
