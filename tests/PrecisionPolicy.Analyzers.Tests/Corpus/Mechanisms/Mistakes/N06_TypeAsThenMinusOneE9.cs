// Source: https://github.com/facebookresearch/mmf/pull/962
// -1e9 raises 'value cannot be converted to type at::Half' when fp16 is on; the scores follow the float16 input through type_as.
// Expected: PP0021
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Coattention
{
    public static Tensor Attend(Tensor query, Tensor keys, Tensor mask)
    {
        var input = query.half();
        var k = keys.type_as(input);
        var scores = input.matmul(k.transpose(1, 2));
        return scores.masked_fill(mask, -1e9);
    }
}
