// Source: https://github.com/google-deepmind/optax/pull/1769
// With float16 parameters the update state follows the parameters' dtype: zeros_like(p) with no dtype makes float16 momentum.
// Expected: PP0017
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public sealed class Momentum
{
    private readonly Tensor[] buffers;
    private readonly Parameter[] ps;

    public Momentum(Linear model)
    {
        model.half();
        ps = model.parameters().ToArray();
        buffers = new Tensor[ps.Length];
        for (var i = 0; i < ps.Length; i++)
        {
            buffers[i] = torch.zeros_like(ps[i]);
        }
    }

    public void Step()
    {
        for (var i = 0; i < ps.Length; i++)
        {
            buffers[i].mul_(0.9).add_(ps[i].grad!);
        }
    }
}
