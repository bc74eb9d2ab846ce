// Source: https://github.com/google-deepmind/optax/pull/1769
// Moments created in float32 whatever the parameters' dtype; the denominator is computed in float32.
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public sealed class Adam32
{
    private readonly Tensor[] m;
    private readonly Tensor[] v;
    private readonly Parameter[] ps;

    public Adam32(Linear model)
    {
        model.half();
        ps = model.parameters().ToArray();
        m = ps.Select(p => torch.zeros_like(p, dtype: ScalarType.Float32)).ToArray();
        v = ps.Select(p => torch.zeros_like(p, dtype: ScalarType.Float32)).ToArray();
    }

    public Tensor Direction(int i)
    {
        var g = ps[i].grad!.@float();
        m[i].mul_(0.9).add_(g, alpha: 0.1);
        v[i].mul_(0.999).addcmul_(g, g, value: 0.001);
        return m[i] / v[i].sqrt().add_(1e-8);
    }
}
