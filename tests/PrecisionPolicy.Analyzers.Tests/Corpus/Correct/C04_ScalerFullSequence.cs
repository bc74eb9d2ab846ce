// Source: https://github.com/princeton-vl/RAFT/issues/104
// scale, backward, unscale once, clip, check, step or skip, update: the documented order.
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using PrecisionPolicy.Scaling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Raft
{
    public static void Step(Linear model, optim.Optimizer opt, LossScaler scaler, Tensor loss)
    {
        (loss * scaler.Scale).backward();
        foreach (var p in model.parameters()) p.grad!.div_(scaler.Scale);
        var norm = nn.utils.clip_grad_norm_(model.parameters(), 1.0);
        var overflow = !double.IsFinite(norm);
        if (!overflow) opt.step();
        scaler.Update(overflow);
    }
}
