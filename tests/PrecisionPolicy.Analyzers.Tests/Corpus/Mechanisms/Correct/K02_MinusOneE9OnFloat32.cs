// Source: https://github.com/NVIDIA/apex/issues/1052
// The same -1e9 fill on a float32 model: float32 holds it.
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public sealed class PathScorer
{
    public Tensor Score(Tensor a, Tensor b, Tensor pathMask)
    {
        var scores = a.@float().matmul(b.@float());
        return scores.masked_fill(pathMask.unsqueeze(-1).logical_not(), -1e9);
    }
}
