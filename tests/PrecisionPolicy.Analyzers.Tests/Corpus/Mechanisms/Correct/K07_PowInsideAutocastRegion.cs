// Source: https://github.com/huggingface/diffusers/pull/182
// Inside an [Autocast] region the generator computes pow (a float32 op of the catalogue) in float32.
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static partial class Norms
{
    [Autocast(Precision.FP16)]
    public static Tensor Rms(Linear proj, Tensor x)
    {
        var h = proj.call(x);
        return h * torch.rsqrt(h.pow(2).mean(new long[] { -1 }, keepdim: true) + 1e-6);
    }
}
