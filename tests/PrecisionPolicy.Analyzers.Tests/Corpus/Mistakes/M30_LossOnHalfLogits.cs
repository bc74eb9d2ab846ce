// Source: https://github.com/facebookresearch/pytext/pull/581
// The loss is computed on float16 logits of a half model; it should be converted to float before the loss.
// Expected: PP0019
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public sealed class Classifier
{
    private readonly Linear head = nn.Linear(768, 2).half();

    public Tensor GetLoss(Tensor features, Tensor labels)
    {
        var logits = head.call(features.half());
        return nn.functional.cross_entropy(logits, labels);
    }
}
