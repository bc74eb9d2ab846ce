// Source: https://github.com/modelscope/DiffSynth-Studio/issues/562
// timestep.to(dtype=self.torch_dtype) with a bfloat16 pipeline: 988.49 and 987.17 both become 988.
// Expected: PP0022
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public sealed class WanPipeline
{
    private readonly Tensor scheduleTimesteps;
    private readonly ScalarType torchDtype;

    public WanPipeline(int steps)
    {
        scheduleTimesteps = torch.linspace(999, 0, steps);
        torchDtype = ScalarType.BFloat16;
    }

    public Tensor Timestep(int i) => scheduleTimesteps[i].unsqueeze(0).to(torchDtype);
}
