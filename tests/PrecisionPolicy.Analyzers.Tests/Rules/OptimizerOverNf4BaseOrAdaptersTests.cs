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
    public Task Models_held_in_fields_or_properties_are_followed_through_their_type() =>
        Verify<OptimizerOverNf4BaseOrAdaptersAnalyzer>.Analyzer(Usings + """
            // The usual trainer: the constructor adapts the model, Train creates the optimizer.
            class FieldTrainer
            {
                private readonly Net model;

                public FieldTrainer()
                {
                    model = new Net();
                    model.AttachLora(new LoraOptions { TargetModules = ["qkv"] });
                }

                public void Train() => {|PP0020:optim.AdamW(this.model.parameters(), 1e-2)|};
            }

            class PropertyTrainer
            {
                public PropertyTrainer() => Model.AttachLora(new LoraOptions { TargetModules = ["qkv"] });

                public Net Model { get; } = new Net();

                public void Train()
                {
                    var opt = {|PP0020:new AdamW(Model.parameters(), 1e-2)|};
                }
            }

            // 16-bit adapters: the policy in the field initializer, QuantizeBase = false in the constructor.
            class SixteenBitTrainer
            {
                private readonly Net _model = new Net().ApplyPrecisionPolicy();

                public SixteenBitTrainer() => _model.AttachLora(new LoraOptions { TargetModules = ["qkv"], QuantizeBase = false });

                public void Train()
                {
                    var opt = {|PP0020:optim.AdamW(_model.parameters(), 1e-2)|};
                }
            }

            partial class PartialTrainer
            {
                private readonly Net model = new Net();

                public void Train()
                {
                    var opt = {|PP0020:optim.AdamW(model.parameters(), 1e-2)|};
                }
            }

            partial class PartialTrainer
            {
                private void Adapt() => model.AttachLora(new LoraOptions { TargetModules = ["qkv"] });
            }

            class CopyingTrainer
            {
                private readonly Net model = new Net();

                public CopyingTrainer() => model.AttachLora(new LoraOptions { TargetModules = ["qkv"] });

                public void Train()
                {
                    var m = this.model;
                    var opt = {|PP0020:optim.AdamW(m.parameters(), 1e-2)|};
                }
            }

            // The member of a constructed generic type is matched against the type's own code.
            class GenericTrainer<T>
            {
                public GenericTrainer() => Model.AttachLora(new LoraOptions { TargetModules = ["qkv"] });

                public Net Model { get; } = new Net();
            }

            class Outside
            {
                void Train(GenericTrainer<int> trainer)
                {
                    var opt = {|PP0020:optim.AdamW(trainer.Model.parameters(), 1e-2)|};
                }
            }
            """ + Models);

    [Fact]
    public Task Parameters_collected_in_a_local_first_are_followed_to_the_model() =>
        Verify<OptimizerOverNf4BaseOrAdaptersAnalyzer>.Analyzer(Usings + """
            class Training
            {
                void InALocal()
                {
                    var model = new Net();
                    model.AttachLora(new LoraOptions { TargetModules = ["qkv"] });
                    var ps = model.parameters();
                    var opt = {|PP0020:optim.AdamW(ps, 1e-2)|};
                }

                void TrainableOnly()
                {
                    var model = new Net();
                    model.AttachLora(new LoraOptions { TargetModules = ["qkv"] });
                    var trainable = model.parameters().Where(p => p.requires_grad).ToList();
                    var opt = {|PP0020:optim.AdamW(trainable, 1e-2)|};
                }

                void FilteredAtTheCall()
                {
                    var model = new Net();
                    model.AttachLora(new LoraOptions { TargetModules = ["qkv"] });
                    var ps = model.parameters();
                    var opt = {|PP0020:optim.AdamW(ps.Where(p => p.requires_grad), 1e-2)|};
                }

                void Nf4LayerInALocal(Linear linear)
                {
                    var nf4 = Nf4Linear.From(linear);
                    var ps = nf4.parameters();
                    var opt = {|PP0020:optim.Adam(ps)|};
                }

                void ReassignedToAnotherModel(Linear head)
                {
                    var model = new Net();
                    model.AttachLora(new LoraOptions { TargetModules = ["qkv"] });
                    var ps = model.parameters();
                    ps = head.parameters();
                    var opt = optim.AdamW(ps, 1e-2);
                }
            }
            """ + Models);

    [Fact]
    public Task Unadapted_float32_or_master_weight_models_of_a_type_are_not_reported() =>
        Verify<OptimizerOverNf4BaseOrAdaptersAnalyzer>.Analyzer(Usings + """
            using PrecisionPolicy.Optimization;

            class NeverAdapted
            {
                private readonly Net model = new Net().ApplyPrecisionPolicy();

                public void Train() => optim.AdamW(model.parameters(), 1e-2);
            }

            class AnotherFieldAdapted
            {
                private readonly Net model = new Net();
                private readonly Net teacher = new Net();

                public AnotherFieldAdapted() => teacher.AttachLora(new LoraOptions { TargetModules = ["qkv"] });

                public void Train() => optim.AdamW(model.parameters(), 1e-2);
            }

            class Float32Trainer
            {
                private readonly ReferenceNet model = new ReferenceNet().ApplyPrecisionPolicy();

                public Float32Trainer() => model.AttachLora(new LoraOptions { TargetModules = ["qkv"], QuantizeBase = false });

                public void Train()
                {
                    var ps = model.parameters();
                    var opt = optim.AdamW(ps, 1e-2);
                }
            }

            class MasterWeightTrainer
            {
                private readonly Net model = new Net().ApplyPrecisionPolicy();

                public MasterWeightTrainer() => model.AttachLora(new LoraOptions { TargetModules = ["qkv"] });

                public void Train(Tensor loss)
                {
                    using var opt = new MasterWeightOptimizer(model, ps => optim.AdamW(ps, 1e-2));
                    opt.Step(loss);
                }

                public void TrainScaled() => model.CreateMixedPrecisionOptimizer(ps => optim.AdamW(ps, 1e-2));
            }

            // What the generator emits for [Autocast] types, reduced to its signature.
            static class GeneratedOptimizer
            {
                public static MasterWeightOptimizer CreateMixedPrecisionOptimizer(this Net model, System.Func<System.Collections.Generic.IEnumerable<Parameter>, OptimizerHelper> factory) =>
                    new MasterWeightOptimizer(model, factory);
            }
            """ + Models);

    // Limits (docs/rules/PP0020.md): the caller that adapted a model passed in is not known to the method.
    [Fact]
    public Task Model_passed_in_as_a_parameter_is_out_of_reach_when_adapted_by_the_caller() =>
        Verify<OptimizerOverNf4BaseOrAdaptersAnalyzer>.Analyzer(Usings + """
            class Training
            {
                void Run()
                {
                    var model = new Net();
                    model.AttachLora(new LoraOptions { TargetModules = ["qkv"] });
                    Train(model);
                }

                void Train(Net model)
                {
                    var opt = optim.AdamW(model.parameters(), 1e-2);
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
