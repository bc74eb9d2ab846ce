// Source: https://github.com/Nerogar/OneTrainer/issues/1177
// All transformer inputs are cast to the training dtype: bfloat16 cannot represent text ids up to 512, tokens get mixed up.
// Expected: PP0022
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public sealed class FluxSampler
{
    private readonly ScalarType trainDtype = ScalarType.BFloat16;

    public Tensor TextIds(int tokens)
    {
        var textIds = torch.arange(tokens).unsqueeze(-1).expand(tokens, 3);
        return textIds.to(trainDtype);
    }
}
