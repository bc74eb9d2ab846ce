// Source: https://github.com/deeplearning4j/deeplearning4j/issues/9972
// Adam updater state in FP16 produces NaN and Infinity: moments created per parameter in float16 with LINQ.
// Expected: PP0001
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public sealed class AdamUpdater
{
    private readonly List<Tensor> m;
    private readonly List<Parameter> ps;

    public AdamUpdater(IEnumerable<Parameter> parameters)
    {
        ps = parameters.ToList();
        m = ps.Select(p => torch.zeros_like(p, dtype: torch.float16)).ToList();
    }

    public void Step()
    {
        for (var i = 0; i < ps.Count; i++)
        {
            m[i].mul_(0.9).add_(ps[i].grad!, alpha: 0.1);
        }
    }
}
