// Source: https://github.com/neuroneural/brainchop-cli/pull/56
// Every layer output cast to float16 enters a hand-written GroupNorm whose square overflows above 256 (256^2 > 65504).
// Expected: PP0019
using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

public sealed class MeshBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv3d conv;

    public MeshBlock() : base(nameof(MeshBlock))
    {
        conv = nn.Conv3d(1, 24, 3);
        conv.to(ScalarType.Float16);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var h = conv.call(x.half());
        var mean = h.mean(new long[] { 2, 3, 4 }, keepdim: true);
        var centered = h - mean;
        var variance = centered.pow(2).mean(new long[] { 2, 3, 4 }, keepdim: true);
        return centered / (variance + 1e-5).sqrt();
    }
}
