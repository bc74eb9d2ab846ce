// Source: https://github.com/engichang1467/Open-Rig3R/issues/35
// The suggested fix: bf16 has fp32's exponent range, so no scaler is needed (the loss is computed in float32).
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Loop
{
    public static void Train(nn.Module<Tensor, Tensor> model, Tensor images, Tensor targets)
    {
        model.bfloat16();
        var outputs = model.call(images.bfloat16()).@float();
        nn.functional.mse_loss(outputs, targets).backward();
    }
}
