// Source: https://github.com/huggingface/transformers/pull/17437
// softmax(dim=-1, dtype=float32).to(dtype): the upcast the OPT fix introduced.
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Opt
{
    public static Tensor Weights(Tensor attnWeights) =>
        nn.functional.softmax(attnWeights, -1, dtype: ScalarType.Float32).to(ScalarType.Float16);
}
