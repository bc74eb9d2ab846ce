// Source: https://github.com/google-deepmind/optax/issues/1754
// Hand-written bias-corrected Adam whose moments _m/_v are float16: eps 1e-8 rounds to 0 and a zero gradient gives 0/0.
// Expected: PP0009
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public sealed class TinyAdam
{
    private readonly Tensor _m;
    private readonly Tensor _v;
    private int t;

    public TinyAdam(Tensor p)
    {
        _m = torch.zeros_like(p, dtype: ScalarType.Float16);
        _v = torch.zeros_like(p, dtype: ScalarType.Float16);
    }

    public Tensor Update(Tensor g)
    {
        t++;
        _m.mul_(0.9).add_(g, alpha: 0.1);
        _v.mul_(0.999).addcmul_(g, g, value: 0.001);
        var mHat = _m / (1 - Math.Pow(0.9, t));
        var vHat = _v / (1 - Math.Pow(0.999, t));
        return mHat / vHat.sqrt().add_(1e-8);
    }
}
