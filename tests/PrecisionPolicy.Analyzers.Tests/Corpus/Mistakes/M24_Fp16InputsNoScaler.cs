// Source: https://github.com/engichang1467/Open-Rig3R/issues/35
// fp16 with no GradScaler: inputs and targets are cast to float16 and loss.backward() runs unscaled, small gradients flush to zero.
// Expected: PP0004
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Loop
{
    public static void Train(nn.Module<Tensor, Tensor> model, optim.Optimizer opt, Tensor images, Tensor targets)
    {
        model.half();
        var input = images.half();
        var target = targets.half();
        var outputs = model.call(input);
        var loss = nn.functional.mse_loss(outputs, target);
        loss.backward();
        opt.step();
    }
}
