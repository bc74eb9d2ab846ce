// Source: https://github.com/NUS-HPC-AI-Lab/VideoSys/pull/6
// The EMA copy of the DiT was created in the training half precision; 'use fp32 for ema model'.
// Expected: PP0023
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public sealed class EmaTrainer
{
    private readonly Linear emaModel;

    public EmaTrainer()
    {
        emaModel = nn.Linear(256, 256);
        emaModel.half();
    }

    public void UpdateEma(Linear model, double decay = 0.9999)
    {
        using var _ = torch.no_grad();
        var emaParams = emaModel.parameters().ToArray();
        var modelParams = model.parameters().ToArray();
        for (var i = 0; i < emaParams.Length; i++)
        {
            emaParams[i].mul_(decay).add_(modelParams[i].detach().half(), alpha: 1 - decay);
        }
    }
}
