// Source: https://github.com/modelscope/DiffSynth-Studio/pull/1025
// The timestep (range [0, 1000]) is cast to bfloat16 before the sinusoidal embedding: 998.39 becomes 1000.
// Expected: PP0022
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class WanTimesteps
{
    public static Tensor At(int step, int steps)
    {
        var timesteps = torch.linspace(1000, 0, steps);
        var timestep = timesteps[step].unsqueeze(0).to(ScalarType.BFloat16);
        return timestep;
    }
}
