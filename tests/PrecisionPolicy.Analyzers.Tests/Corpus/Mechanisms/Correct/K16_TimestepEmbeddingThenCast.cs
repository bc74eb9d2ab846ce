// Source: https://github.com/modelscope/DiffSynth-Studio/pull/1025
// The fix: the timestep stays float32 into the sinusoidal embedding; only its output (in [-1, 1]) is cast.
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class WanTimesteps
{
    private static Tensor Sinusoidal(Tensor t, int dim)
    {
        var freqs = torch.exp(torch.arange(dim / 2).@float() * (-Math.Log(10000) / (dim / 2)));
        var args = t.unsqueeze(-1) * freqs;
        return torch.cat(new[] { args.cos(), args.sin() }, -1);
    }

    public static Tensor At(int step, int steps)
    {
        var timesteps = torch.linspace(1000, 0, steps);
        return Sinusoidal(timesteps[step].unsqueeze(0), 256).to(ScalarType.BFloat16);
    }
}
