// Source: https://github.com/Dao-AILab/flash-attention/issues/118
// Inside an [Autocast] region the generator computes softmax and losses in float32 itself.
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static partial class Losses
{
    [Autocast(Precision.FP16)]
    public static Tensor Loss(Linear head, Tensor x, Tensor labels) =>
        nn.functional.cross_entropy(head.call(x), labels);
}
