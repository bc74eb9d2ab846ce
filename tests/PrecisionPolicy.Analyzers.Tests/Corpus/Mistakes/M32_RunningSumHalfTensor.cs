// Source: https://github.com/idiap/fast-transformers/issues/32
// Summing across a long axis in fp16 overflows after many steps: a running sum kept in a float16 tensor.
// Expected: PP0018
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Epoch
{
    public static double MeanLoss(Func<Tensor, Tensor> lossOf, Tensor[] batches)
    {
        var running = torch.zeros(1, dtype: ScalarType.Float16);
        foreach (var batch in batches)
        {
            running += lossOf(batch).detach().half();
        }

        return running.item<float>() / batches.Length;
    }
}
