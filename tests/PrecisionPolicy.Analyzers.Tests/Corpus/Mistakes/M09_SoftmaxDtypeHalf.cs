// Source: https://github.com/huggingface/transformers/pull/18057
// Softmax asked to produce float16 directly with dtype: instead of computing in float32 and casting back.
// Expected: PP0008
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class XglmAttention
{
    public static Tensor Weights(Tensor attnWeights) =>
        nn.functional.softmax(attnWeights, -1, dtype: ScalarType.Float16);
}
