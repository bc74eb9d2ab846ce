// Source: https://github.com/NVIDIA-NeMo/RL/pull/876
// The suggested fix: compute the exponent in float32 and cast back.
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class KlPenalty
{
    public static Tensor Penalty(Linear policy, Linear reference, Tensor x)
    {
        policy.half();
        reference.half();
        var r = reference.call(x) - policy.call(x);
        var r32 = r.to(ScalarType.Float32);
        return (torch.expm1(r32) - r32).to(r.dtype);
    }
}
