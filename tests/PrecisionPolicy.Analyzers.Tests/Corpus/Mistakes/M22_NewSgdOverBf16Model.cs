// Source: https://github.com/hp-l33/AiM/issues/10
// The whole model forced to bf16 and trained by an optimizer built over its parameters: the loss decreases much more slowly.
// Expected: PP0016
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Forced
{
    public static void Train(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y)
    {
        model.to(ScalarType.BFloat16);
        var opt = new SGD(model.parameters(), 0.01);
        nn.functional.mse_loss(model.call(x.bfloat16()).@float(), y).backward();
        opt.step();
    }
}
