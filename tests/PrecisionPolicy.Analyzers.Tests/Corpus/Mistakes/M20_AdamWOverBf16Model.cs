// Source: https://github.com/vllm-project/speculators/pull/765
// Training fully in bf16 with AdamW: normalization weights start at 1.0 and never move, the update is below bf16's step.
// Expected: PP0003
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Speculator
{
    public static optim.Optimizer Build(nn.Module<Tensor, Tensor> draft)
    {
        var model = draft.to(ScalarType.BFloat16);
        return optim.AdamW(model.parameters(), 1e-4);
    }
}
