// Source: https://github.com/Dao-AILab/flash-attention/issues/118
// Keeping the attention softmax in FP32 during FP16/BF16 training: here log_softmax runs on a bfloat16 cast.
// Expected: PP0008
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Scores
{
    public static Tensor LogProbabilities(Tensor logits) => logits.to(ScalarType.BFloat16).log_softmax(-1);
}
