// Source: https://github.com/wenet-e2e/wenet/pull/907
// LayerNorm(eps=1e-12) in a model run with model.half(): NaN in fp16 inference, fixed by eps=1e-5.
// Expected: PP0009
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public sealed class ConformerBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm;

    public ConformerBlock(int dim) : base(nameof(ConformerBlock))
    {
        norm = nn.LayerNorm(dim, eps: 1e-12);
        norm.half();
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => norm.call(x.half());
}
