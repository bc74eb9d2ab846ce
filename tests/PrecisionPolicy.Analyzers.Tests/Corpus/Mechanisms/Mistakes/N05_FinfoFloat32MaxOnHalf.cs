// Source: https://github.com/dotnet/TorchSharp/issues/1135
// weight.masked_fill_(mask, -finfo(float32).max) on a float16 tensor: libtorch refuses the float32 extreme for Half.
// Expected: PP0021
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class CausalMask
{
    public static Tensor Apply(Tensor logits)
    {
        var weight = logits.half();
        var mask = torch.ones_like(weight).triu(1).to(torch.@bool);
        weight.masked_fill_(mask, -torch.finfo(torch.float32).max);
        return weight;
    }
}
