// Source: https://github.com/huggingface/transformers/pull/29285
// The fix: positions and frequencies stay float32, only the cos/sin tables are cast.
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
        var pos = torch.arange(0, seqLen, dtype: ScalarType.Float32);
        var freqs = pos.unsqueeze(-1) * invFreq.@float();
        return freqs.cos().to(ScalarType.BFloat16);
    }
}
