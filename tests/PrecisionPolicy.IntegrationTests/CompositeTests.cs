using System.Linq;
using PrecisionPolicy.Casting;
using PrecisionPolicy.CompilerServices;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.IntegrationTests;

/// <summary>Built-in composites under ModulePolicy (the runtime half of PP0103), without the generator.</summary>
public sealed class CompositeTests
{
    private sealed class Host : nn.Module<Tensor, Tensor>
    {
        private readonly TransformerEncoderLayer layer;

        public Host() : base(nameof(Host))
        {
            layer = nn.TransformerEncoderLayer(16, 2, 32, 0.0);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => layer.call(x);
    }

    [Fact]
    public void Transformer_encoder_layer_runs_under_a_bf16_plan()
    {
        using var scope = NewDisposeScope();
        using var gemm = GemmModeScope.Use(GemmMode.Native);
        var host = new Host();
        ModulePolicy.Apply(host, new PrecisionPlan("Host", Precision.BF16, System.Array.Empty<string>()));
        var dtypes = host.named_parameters().Select(p => p.parameter.dtype).Distinct().ToList();
        var output = host.call(randn(3, 4, 16));
        // Opaque: the whole layer (its LayerNorms included) holds BF16 and computes in BF16, as PP0103 warns.
        Assert.Equal(new[] { ScalarType.BFloat16 }, dtypes);
        Assert.Equal(ScalarType.Float32, output.dtype); // handed back in FP32 by the outermost policy module
        Assert.False(output.isnan().any().item<bool>());
    }
}
