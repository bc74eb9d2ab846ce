// Source: https://github.com/d8ahazard/sd_dreambooth_extension/pull/1415
// With weight_dtype bfloat16 the EMA model is bfloat16 too: updates of 0.001 of the weight round to 0 and the EMA never moves.
// Expected: PP0023
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public sealed class EmaModel
{
    private readonly Tensor[] shadow;
    private const double Decay = 0.999;

    public EmaModel(Linear model)
    {
        model.to(ScalarType.BFloat16);
        shadow = model.parameters().Select(p => p.detach().clone()).ToArray();
    }

    public void Step(Linear model)
    {
        using var _ = torch.no_grad();
        var ps = model.parameters().ToArray();
        for (var i = 0; i < shadow.Length; i++)
        {
            shadow[i].mul_(Decay).add_(ps[i], alpha: 1 - Decay);
        }
    }
}
