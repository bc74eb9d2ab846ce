// Source: https://github.com/huggingface/transformers/issues/24449
// unscale_() has already been called since the last update(): the gradients are unscaled for clipping and again before the step.
// Expected: PP0014
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using PrecisionPolicy.Scaling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Loop
{
    public static void Step(Linear model, optim.Optimizer opt, LossScaler scaler, Tensor loss)
    {
        (loss * scaler.Scale).backward();
        foreach (var p in model.parameters()) p.grad!.div_(scaler.Scale);
        nn.utils.clip_grad_norm_(model.parameters(), 1.0);
        foreach (var p in model.parameters()) p.grad!.div_(scaler.Scale);
        var overflow = model.parameters().Any(p => !torch.isfinite(p.grad!).all().item<bool>());
        if (!overflow) opt.step();
        scaler.Update(overflow);
    }
}
