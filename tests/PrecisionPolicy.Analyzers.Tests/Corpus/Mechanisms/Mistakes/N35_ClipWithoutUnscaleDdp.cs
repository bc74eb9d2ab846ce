// Source: https://github.com/pytorch/examples/issues/1196
// minGPT-ddp clips with clip_grad_norm_ after a scaled backward and no scaler.unscale_(optimizer) before it.
// Expected: PP0005
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using PrecisionPolicy.Scaling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class MinGptTrainer
{
    public static void RunBatch(Linear model, optim.Optimizer opt, LossScaler scaler, Tensor loss, double gradNormClip)
    {
        var scale = scaler.Scale;
        (loss * scale).backward();
        nn.utils.clip_grad_norm_(model.parameters(), gradNormClip);
        foreach (var p in model.parameters()) p.grad!.div_(scale);
        var overflow = model.parameters().Any(p => !torch.isfinite(p.grad!).all().item<bool>());
        if (!overflow) opt.step();
        scaler.Update(overflow);
    }
}
