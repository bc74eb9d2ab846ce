// Source: https://github.com/NVIDIA/apex/pull/144
// FP16Model keeps BatchNorm in single precision while the convolutions run in half.
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public sealed class Net : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv = nn.Conv2d(3, 64, 3);
    private readonly BatchNorm2d bn = nn.BatchNorm2d(64);

    public Net() : base(nameof(Net))
    {
        RegisterComponents();
        conv.half();
        bn.@float();
    }

    public override Tensor forward(Tensor x) => bn.call(conv.call(x.half()).@float());
}
