// Source: https://github.com/deepspeedai/DeepSpeed/pull/8588
// The reported gradient norm is computed before the gradients are unscaled, so it is the loss scale times too large.
// Expected: PP0005
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using PrecisionPolicy.Scaling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Fp16Optimizer
{
    public static Tensor Step(Parameter[] ps, optim.Optimizer opt, LossScaler scaler, Tensor loss)
    {
        var scale = scaler.Scale;
        loss.mul(scale).backward();
        var norm = torch.linalg.vector_norm(torch.cat(ps.Select(p => p.grad!.flatten()).ToArray()));
        foreach (var p in ps) p.grad!.div_(scale);
        var overflow = ps.Any(p => !torch.isfinite(p.grad!).all().item<bool>());
        if (!overflow) opt.step();
        scaler.Update(overflow);
        return norm;
    }
}
