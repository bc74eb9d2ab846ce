// Source: https://github.com/karpathy/nanoGPT/issues/84
// Switching the default dtype to float16 to train on a device without bf16; float16 needs a gradient scaler and master weights.
// Expected: PP0016
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Train
{
    public static void Run(Tensor x, Tensor y)
    {
        torch.set_default_dtype(torch.float16);
        var model = nn.Linear(128, 128);
        var opt = optim.AdamW(model.parameters(), 6e-4);
        var loss = nn.functional.mse_loss(model.call(x), y);
        loss.backward();
        opt.step();
    }
}
