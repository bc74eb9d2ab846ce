using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Rules;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests.Rules;

public sealed class OptimizerOverNf4BaseOrAdaptersTests
{
    private const string Usings = """
        using System.Linq;
        using PrecisionPolicy;
        using PrecisionPolicy.Lora;
        using PrecisionPolicy.Quantization;
        using TorchSharp;
        using TorchSharp.Modules;
        using static TorchSharp.torch;

        """;

    // A BF16 policy module and an FP32 one, each with the Linear "qkv" that LoRA targets.
    private const string Models = """

        [Autocast(Precision.BF16)]
        public sealed partial class Net : nn.Module<Tensor, Tensor>
        {
            private readonly Linear qkv = nn.Linear(4, 4);
            public Net() : base(nameof(Net)) => RegisterComponents();
            public override Tensor forward(Tensor x) => qkv.call(x);
            public Net ApplyPrecisionPolicy() => this;
        }

        [Autocast(Precision.FP32)]
        public sealed partial class ReferenceNet : nn.Module<Tensor, Tensor>
        {
            private readonly Linear qkv = nn.Linear(4, 4);
            public ReferenceNet() : base(nameof(ReferenceNet)) => RegisterComponents();
            public override Tensor forward(Tensor x) => qkv.call(x);
            public ReferenceNet ApplyPrecisionPolicy() => this;
        }
        """;

    [Fact]
    public Task Plain_optimizers_over_an_nf4_base_or_16_bit_adapters_are_reported() =>
        Verify<OptimizerOverNf4BaseOrAdaptersAnalyzer>.Analyzer(Usings + """
            class Training
            {
                void QloraModel()
                {
                    var model = new Net();
                    model.AttachLora(new LoraOptions { TargetModules = ["qkv"] });
                    var opt = {|PP0020:optim.AdamW(model.parameters(), 1e-2)|};
                }

                void QloraModelOptimizerClass(Net model)
                {
                    model.AttachLora(new LoraOptions { TargetModules = ["qkv"], QuantizeBase = true });
                    var opt = {|PP0020:new SGD(model.named_parameters().Select(p => p.parameter), 0.1)|};
                }

                void Nf4Layer(Linear linear)
                {
                    var nf4 = Nf4Linear.From(linear);
                    var opt = {|PP0020:optim.Adam(nf4.parameters())|};
                }

                void Nf4BaseOfAnAdapter(Net model)
                {
                    var layer = model.AttachLora(new LoraOptions { TargetModules = ["qkv"] })[0];
                    var opt = {|PP0020:optim.Adam(layer.Nf4Base!.parameters())|};
                }

                void Nf4Codes(Nf4Tensor weight)
                {
                    var opt = {|PP0020:optim.SGD(new[] { new Parameter(weight.Codes, requires_grad: true) }, 0.1)|};
                }

                void SixteenBitLora()
                {
                    var model = new Net().ApplyPrecisionPolicy();
                    model.AttachLora(new LoraOptions { TargetModules = ["qkv"], QuantizeBase = false });
                    var opt = {|PP0020:optim.AdamW(model.parameters(), 1e-2)|};
                }

                void SixteenBitAdapters(Net model)
                {
                    model.ApplyPrecisionPolicy();
                    var layers = model.AttachLora(new LoraOptions { TargetModules = ["qkv"], QuantizeBase = false });
                    var opt = {|PP0020:optim.AdamW(layers.SelectMany(l => l.Down.parameters().Concat(l.Up.parameters())), 1e-2)|};
                }
            }
            """ + Models);

    [Fact]
    public Task Master_weights_float32_adapters_and_other_modules_are_not_reported() =>
        Verify<OptimizerOverNf4BaseOrAdaptersAnalyzer>.Analyzer(Usings + """
            using PrecisionPolicy.Optimization;

            class Training
            {
                void MasterWeights()
                {
                    var model = new Net().ApplyPrecisionPolicy();
                    model.AttachLora(new LoraOptions { TargetModules = ["qkv"] });
                    using var opt = new MasterWeightOptimizer(model, ps => optim.AdamW(ps, 1e-2));
                }

                void Float32Lora()
                {
                    var model = new Net();
                    model.AttachLora(new LoraOptions { TargetModules = ["qkv"], QuantizeBase = false });
                    var opt = optim.AdamW(model.parameters(), 1e-2);
                }

                void Float32PolicyLora()
                {
                    var model = new ReferenceNet().ApplyPrecisionPolicy();
                    var layers = model.AttachLora(new LoraOptions { TargetModules = ["qkv"], QuantizeBase = false });
                    var opt = optim.AdamW(model.parameters(), 1e-2);
                    var adapters = optim.AdamW(layers.SelectMany(l => l.Down.parameters()), 1e-2);
                }

                void AnotherModel(Linear head)
                {
                    var model = new Net();
                    model.AttachLora(new LoraOptions { TargetModules = ["qkv"] });
                    var opt = optim.AdamW(head.parameters(), 1e-2);
                }

                void Nf4LayerNotTrained(Linear linear, Linear head, Tensor x)
                {
                    using var nf4 = Nf4Linear.From(linear);
                    var y = nf4.call(x);
                    var opt = optim.Adam(head.parameters());
                }

                void PlainModel()
                {
                    var model = new Net();
                    var opt = optim.AdamW(model.parameters(), 1e-2);
                }

                void LookAlikeTypes(Net model, Mine.Nf4Linear own)
                {
                    Mine.Adapters.AttachLora(model, rank: 8);
                    var opt = optim.AdamW(model.parameters(), 1e-2);
                    var other = optim.AdamW(own.parameters(), 1e-2);
                }
            }

            namespace Mine
            {
                public sealed class Nf4Linear : nn.Module<Tensor, Tensor>
                {
                    public Nf4Linear() : base(nameof(Nf4Linear)) { }
                    public override Tensor forward(Tensor x) => x;
                }

                public static class Adapters
                {
                    public static void AttachLora(nn.Module model, int rank) { }
                }
            }
            """ + Models);
}
