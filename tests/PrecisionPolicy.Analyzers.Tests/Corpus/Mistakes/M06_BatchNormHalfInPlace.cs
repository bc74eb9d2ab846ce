// Source: https://github.com/fastai/fastai/issues/507
// Calling .half() on the batch-norm layer too, instead of keeping it float32 as batchnorm_to_fp32 does.
// Expected: PP0007
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public sealed class Block : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc = nn.Linear(16, 16);
    private readonly BatchNorm1d bn = nn.BatchNorm1d(16);

    public Block() : base(nameof(Block))
    {
        RegisterComponents();
        fc.half();
        bn.half();
    }

    public override Tensor forward(Tensor x) => bn.call(fc.call(x));
}
