// Source: https://github.com/wandb/wandb/issues/9092
// Without loss scaling (bfloat16) the gradients the backward writes are the true ones.
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Logging
{
    public static void Step(Linear model, optim.Optimizer opt, Tensor loss, Action<string, float> log)
    {
        loss.backward();
        foreach (var (name, p) in model.named_parameters())
        {
            log(name, p.grad!.abs().max().item<float>());
        }

        opt.step();
    }
}
