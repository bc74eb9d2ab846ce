// Source: https://github.com/facebookresearch/mmf/pull/962
// The fix of the thread: -10000 is representable in float16.
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
        var scores = input.matmul(keys.type_as(input).transpose(1, 2));
        return scores.masked_fill(mask, -10000.0);
    }
}
