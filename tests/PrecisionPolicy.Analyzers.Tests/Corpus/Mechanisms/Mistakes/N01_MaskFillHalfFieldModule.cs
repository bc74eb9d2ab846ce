// Source: https://github.com/facebookresearch/fairseq/issues/3575
// Encoder self-attention under fp16: the attention weights come from a projection made float16 in the constructor, and -1e8 overflows float16 (libtorch throws).
// Expected: PP0021
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public sealed class EncoderLayer : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Linear query;
    private readonly Linear key;

    public EncoderLayer(int dim) : base(nameof(EncoderLayer))
    {
        query = nn.Linear(dim, dim);
        key = nn.Linear(dim, dim);
        query.half();
        key.half();
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor attnMask)
    {
        var h = x.half();
        var weights = query.call(h).matmul(key.call(h).transpose(-2, -1));
        return weights.masked_fill(attnMask, -1e8).softmax(-1, dtype: ScalarType.Float32);
    }
}
