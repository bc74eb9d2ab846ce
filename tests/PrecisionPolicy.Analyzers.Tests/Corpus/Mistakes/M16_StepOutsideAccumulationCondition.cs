// Source: https://github.com/thunlp/OpenPrompt/issues/106
// Clipping sits under the accumulation condition but optimizer.step() and zero_grad() run after it on every batch.
// Expected: PP0015
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
        var actualStep = 0;
        for (var i = 0; i < xs.Length; i++)
        {
            var loss = nn.functional.mse_loss(model.call(xs[i]), ys[i]) / gradientAccumulationSteps;
            loss.backward();
            actualStep++;
            if (actualStep % gradientAccumulationSteps == 0)
            {
                nn.utils.clip_grad_norm_(model.parameters(), 1.0);
            }

            opt.step();
            opt.zero_grad();
        }
    }
}
