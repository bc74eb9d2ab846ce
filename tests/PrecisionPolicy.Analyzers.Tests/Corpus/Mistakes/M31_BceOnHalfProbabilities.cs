// Source: https://github.com/fastino-ai/GLiNER2/pull/155
// A consistency loss computed on half-precision probabilities: the log near 1.0 is -inf in float16 and the backward is NaN.
// Expected: PP0019
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Consistency
{
    public static Tensor Loss(Linear scorer, Tensor spans, Tensor target)
    {
        var probabilities = scorer.half().call(spans.half()).sigmoid();
        return nn.functional.binary_cross_entropy(probabilities, target.half());
    }
}
