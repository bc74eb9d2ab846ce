// Source: https://github.com/wenet-e2e/wenet/pull/907
// eps=1e-12 on a float32 LayerNorm is fine: the NaN came only with model.half().
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
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => norm.call(x);
}
