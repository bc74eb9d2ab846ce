// Source: https://github.com/huggingface/transformers/pull/29285
// Under bfloat16 the RoPE positions are cast to bfloat16 and lose precision dramatically for long contexts.
// Expected: PP0022
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class GemmaRope
{
    public static Tensor Angles(Tensor invFreq, long seqLen)
    {
        var positionIds = torch.arange(0, seqLen);
        var pos = positionIds.to(ScalarType.BFloat16);
        return pos.unsqueeze(-1) * invFreq.to(ScalarType.BFloat16);
    }
}
