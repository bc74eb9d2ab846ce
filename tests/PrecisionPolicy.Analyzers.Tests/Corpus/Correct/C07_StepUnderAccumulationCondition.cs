// Source: https://github.com/thunlp/OpenPrompt/issues/106
// The corrected tutorial: clip, step and zero_grad all under the accumulation condition.
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Tutorial
{
    public static void Train(Linear model, optim.Optimizer opt, Tensor[] xs, Tensor[] ys, int gradientAccumulationSteps)
    {
        double totLoss = 0;
        for (var i = 0; i < xs.Length; i++)
        {
            var loss = nn.functional.mse_loss(model.call(xs[i]), ys[i]) / gradientAccumulationSteps;
            loss.backward();
            totLoss += loss.item<float>();
            if ((i + 1) % gradientAccumulationSteps == 0)
            {
                nn.utils.clip_grad_norm_(model.parameters(), 1.0);
                opt.step();
                opt.zero_grad();
            }
        }

        Console.WriteLine(totLoss);
    }
}
