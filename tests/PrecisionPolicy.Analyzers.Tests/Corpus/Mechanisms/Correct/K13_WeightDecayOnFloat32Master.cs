// Source: https://github.com/Nerogar/OneTrainer/issues/996
// Weight decay applied to a float32 master copy, then written back to the bfloat16 weight.
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public sealed class MasterDecay
{
    private readonly Parameter[] ps;
    private readonly Tensor[] masters;

    public MasterDecay(Linear model)
    {
        model.bfloat16();
        ps = model.parameters().ToArray();
        masters = ps.Select(p => p.detach().@float().clone()).ToArray();
    }

    public void DecayWeights(double lr, double weightDecay)
    {
        using var _ = torch.no_grad();
        for (var i = 0; i < ps.Length; i++)
        {
            masters[i].mul_(1 - lr * weightDecay);
            ps[i].copy_(masters[i]);
        }
    }
}
