// Source: https://github.com/workofart/ml-by-hand/pull/85
// Gradients accumulated in bf16 across micro-batches: the many small additions are rounded away.
// Expected: PP0002
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Accumulate
{
    public static Tensor[] Sum(Linear model, Func<int, Tensor> lossOf, int microBatches)
    {
        var ps = model.parameters().ToArray();
        var bufs = ps.Select(p => torch.zeros_like(p, dtype: ScalarType.BFloat16)).ToArray();
        for (var micro = 0; micro < microBatches; micro++)
        {
            lossOf(micro).backward();
            for (var i = 0; i < ps.Length; i++)
            {
                bufs[i].add_(ps[i].grad!);
            }
        }

        return bufs;
    }
}
