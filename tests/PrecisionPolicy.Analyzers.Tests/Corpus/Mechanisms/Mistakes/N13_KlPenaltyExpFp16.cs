// Source: https://github.com/NVIDIA-NeMo/RL/pull/876
// The KL penalty exp(r) - r - 1 on float16 log-probabilities: exp(20) overflows float16 even after clamping.
// Expected: PP0019
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
        r = r.clamp(-20, 20);
        return torch.exp(r) - r - 1;
    }
}
