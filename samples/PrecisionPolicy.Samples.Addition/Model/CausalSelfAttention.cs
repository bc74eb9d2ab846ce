using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.Samples.Addition.Model;

/// <summary>Multi-head causal self-attention: the matmuls run in the compute precision, softmax in FP32.</summary>
[Autocast(Precision.FP8)]
public sealed partial class CausalSelfAttention : Module<Tensor, Tensor>
{
    private readonly Linear qkv;
    private readonly Linear proj;
    private readonly Tensor causalMask;
    private readonly Scalar scoreScale;
    private readonly Scalar? gain;
    private readonly bool scoresInFp32;
    private readonly int heads;

    public CausalSelfAttention(GptConfig config) : base(nameof(CausalSelfAttention))
    {
        heads = config.Heads;
        qkv = Linear(config.Width, 3 * config.Width);
        proj = Linear(config.Width, config.Width);
        causalMask = ones(config.Context, config.Context, dtype: ScalarType.Bool).triu(1);
        // With a gain g the scale is 1/(g² sqrt(d)): powers of two, so the product is exact where it fits.
        var gainFactor = Math.Pow(2, config.AttentionGainLog2);
        scoreScale = (1.0 / (gainFactor * gainFactor * Math.Sqrt(config.Width / config.Heads))).ToScalar();
        gain = config.AttentionGainLog2 == 0 ? null : gainFactor.ToScalar();
        scoresInFp32 = config.ScoresInFp32;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var (batch, time, width) = (x.shape[0], x.shape[1], x.shape[2]);
        var headSize = width / heads;
        var parts = qkv.call(x).split(width, 2);
        var q = parts[0].view(batch, time, heads, headSize).transpose(1, 2);
        var k = parts[1].view(batch, time, heads, headSize).transpose(1, 2);
        var v = parts[2].view(batch, time, heads, headSize).transpose(1, 2);

        if (gain is not null) (q, k) = (q.mul(gain), k.mul(gain));
        var scores = (scoresInFp32 ? ScoresInFp32(q, k) : matmul(q, k.transpose(-2, -1))).mul(scoreScale);
        scores = scores.masked_fill(causalMask[..(int)time, ..(int)time], Scalars.NegativeInfinity);
        var attention = functional.softmax(scores, -1);
        var y = matmul(attention, v).transpose(1, 2).contiguous().view(batch, time, width);
        return proj.call(y);
    }

    /// <summary>The score matmul in FP32: large queries and keys cannot overflow it.</summary>
    [HighPrecision]
    private static Tensor ScoresInFp32(Tensor q, Tensor k) => matmul(q, k.transpose(-2, -1));
}
