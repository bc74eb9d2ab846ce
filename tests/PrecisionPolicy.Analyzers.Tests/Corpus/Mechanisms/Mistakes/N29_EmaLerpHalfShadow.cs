// Source: https://github.com/PaddlePaddle/PaddleMIX/pull/515
// The EMA weights were kept in the training dtype; the fix is 'ema use fp32'. Here the shadow is float16 and updated with lerp_ every step.
// Expected: PP0023
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public sealed class Ema
{
    private readonly List<Tensor> shadow = new();

    public Ema(IEnumerable<Parameter> parameters)
    {
        foreach (var p in parameters)
        {
            shadow.Add(p.detach().clone().half());
        }
    }

    public void Update(IReadOnlyList<Parameter> parameters, double decay)
    {
        using var _ = torch.no_grad();
        for (var i = 0; i < shadow.Count; i++)
        {
            shadow[i].lerp_(parameters[i].half(), 1 - decay);
        }
    }
}
