// Source: https://github.com/soumith/cudnn.torch/issues/377
// The whole network, BatchNorm included, is built in float16 through a dtype held in a field; the loss is NaN from the start.
// Expected: PP0007
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public sealed class Net : nn.Module<Tensor, Tensor>
{
    private static readonly ScalarType Half = ScalarType.Float16;
    private readonly Conv2d conv;
    private readonly BatchNorm2d bn;

    public Net() : base(nameof(Net))
    {
        conv = nn.Conv2d(3, 64, 3, dtype: Half);
        bn = nn.BatchNorm2d(64, dtype: Half);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => bn.call(conv.call(x));
}
