// Source: https://github.com/thunlp/OpenPrompt/issues/106
// tot_loss += loss.item() kept in a 16-bit scalar: after a few thousand steps additions stop changing it.
// Expected: PP0018
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Totals
{
    public static float Train(Func<int, Tensor> step, int steps)
    {
        Half totLoss = (Half)0;
        for (var i = 0; i < steps; i++)
        {
            var loss = step(i);
            totLoss += (Half)loss.item<float>();
        }

        return (float)totLoss / steps;
    }
}
