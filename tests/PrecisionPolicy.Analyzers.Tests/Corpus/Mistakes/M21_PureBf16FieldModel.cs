// Source: https://github.com/THU-BPM/RLCSD/issues/2
// The model is loaded in bfloat16 and optimized with regular AdamW, no fp32 master copy.
// Expected: PP0003
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public sealed class RlTrainer
{
    private readonly nn.Module<Tensor, Tensor> trainModel;

    public RlTrainer(nn.Module<Tensor, Tensor> loaded)
    {
        trainModel = loaded.bfloat16();
    }

    public optim.Optimizer CreateOptimizer() => optim.AdamW(trainModel.parameters(), 1e-6);
}
