// Source: https://github.com/verl-project/verl/pull/436
// Gradient clipping inside the micro-batch loop clips each partial gradient instead of the accumulated one.
// Expected: PP0015
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Sft
{
    public static void TrainingStep(Linear model, optim.Optimizer opt, Tensor[] micro, Tensor[] targets)
    {
        var nMicroBatches = micro.Length;
        for (var i = 0; i < nMicroBatches; i++)
        {
            var loss = nn.functional.mse_loss(model.call(micro[i]), targets[i]) / nMicroBatches;
            loss.backward();
            nn.utils.clip_grad_norm_(model.parameters(), 1.0);
        }

        opt.step();
        opt.zero_grad();
    }
}
