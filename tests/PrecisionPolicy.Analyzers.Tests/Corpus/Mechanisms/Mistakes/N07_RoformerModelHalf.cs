// Source: https://github.com/IDEA-CCNL/Fengshenbang-LM/issues/25
// Fine-tuning in fp16: attention_scores.masked_fill(attention_mask, -1e8) overflows float16; the model was cast with model.half().
// Expected: PP0021
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public static class Finetune
{
    public static Tensor Scores(Tensor x, Tensor attentionMask)
    {
        var model = nn.Linear(128, 128);
        model.half();
        var attentionScores = model.call(x);
        return attentionScores.masked_fill(attentionMask, -1e8);
    }
}
