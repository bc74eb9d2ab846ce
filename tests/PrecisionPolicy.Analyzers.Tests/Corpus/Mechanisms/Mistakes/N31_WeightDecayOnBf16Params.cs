// Source: https://github.com/Nerogar/OneTrainer/issues/996
// In Adam and AdamW the weight decay is applied in bfloat16: lr * weight_decay is below bfloat16's resolution, so no weight decay is applied.
// Expected: PP0023
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public sealed class Bf16AdamW
{
    private readonly Parameter[] ps;

    public Bf16AdamW(Linear model)
    {
        model.bfloat16();
        ps = model.parameters().ToArray();
    }

    public void DecayWeights(double lr, double weightDecay)
    {
        using var _ = torch.no_grad();
        foreach (var p in ps)
        {
            p.mul_(1 - lr * weightDecay);
        }
    }
}
