// Source: https://github.com/dotnet/TorchSharp/issues/1135
// The fill is the lowest value of the tensor's own dtype, which it can always hold.
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
        weight.masked_fill_(mask, torch.finfo(weight.dtype).min);
        return weight;
    }
}
