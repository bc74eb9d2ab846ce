// Source: https://github.com/thunlp/OpenPrompt/issues/106
// tot_loss += loss.item() in a double.
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Totals
{
    public static double Mean(Func<int, Tensor> step, int steps)
    {
        double totLoss = 0;
        for (var i = 0; i < steps; i++)
        {
            totLoss += step(i).item<float>();
        }

        return totLoss / steps;
    }
}
