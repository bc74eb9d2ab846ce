// Source: https://github.com/NVIDIA/apex/issues/1052
// scores.masked_fill(~path_mask, -1e9) where the scores are float16: -1e9 is far beyond float16's 65504; the dtype comes from a helper method.
// Expected: PP0021
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public sealed class PathScorer
{
    private static Tensor Compute(Tensor a, Tensor b) => a.half().matmul(b.half());

    public Tensor Score(Tensor a, Tensor b, Tensor pathMask)
    {
        var scores = Compute(a, b);
        return scores.masked_fill(pathMask.unsqueeze(-1).logical_not(), -1e9);
    }
}
