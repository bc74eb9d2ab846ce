// Source: https://github.com/workofart/ml-by-hand/pull/85
// Updates written back into bf16 weights: round_bf16(1 - 6e-4) == 1.0, so after 100 steps no weight has moved.
// Expected: PP0016
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Sgd
{
    public static void Train(Tensor x, Tensor y, double lr)
    {
        var model = nn.Linear(64, 64).bfloat16();
        var loss = nn.functional.mse_loss(model.call(x.bfloat16()).@float(), y);
        loss.backward();
        using (torch.no_grad())
        {
            foreach (var p in model.parameters())
            {
                p.add_(p.grad!, alpha: -lr);
            }
        }
    }
}
