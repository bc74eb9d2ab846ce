using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Rules;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests.Rules;

public sealed class EpsilonUnderflowsInFp16Tests
{
    [Fact]
    public Task Adam_over_float16_parameters_is_reported() =>
        Verify<EpsilonUnderflowsInFp16Analyzer>.Analyzer("""
            using TorchSharp;
            using static TorchSharp.torch;

            class Setup
            {
                void Explicit()
                {
                    var model = nn.Linear(4, 4).half();
                    var opt = optim.Adam(model.parameters(), eps: {|PP0009:1e-8|});
                }

                void Defaulted()
                {
                    var model = nn.Linear(4, 4);
                    model.to(ScalarType.Float16);
                    var opt = {|PP0009:optim.AdamW(model.parameters())|};
                }
            }
            """);

    [Fact]
    public Task Large_eps_bf16_and_master_weights_are_not_reported() =>
        Verify<EpsilonUnderflowsInFp16Analyzer>.Analyzer("""
            using TorchSharp;
            using static TorchSharp.torch;

            class Setup
            {
                void LargeEps()
                {
                    var model = nn.Linear(4, 4).half();
                    var opt = optim.Adam(model.parameters(), eps: 1e-4);
                }

                void Bf16()
                {
                    var model = nn.Linear(4, 4).bfloat16();
                    var opt = optim.Adam(model.parameters(), eps: 1e-8);
                }

                void Float32()
                {
                    var model = nn.Linear(4, 4);
                    var opt = optim.Adam(model.parameters(), eps: 1e-8);
                }

                void NoEps()
                {
                    var model = nn.Linear(4, 4).half();
                    var opt = optim.SGD(model.parameters(), 0.1);
                }
            }
            """);

    [Fact]
    public Task Eps_added_to_float16_state_is_reported() =>
        Verify<EpsilonUnderflowsInFp16Analyzer>.Analyzer("""
            using TorchSharp;
            using static TorchSharp.torch;

            class Rms
            {
                private const double Eps = 1e-8;
                private Tensor v = torch.zeros(4, dtype: ScalarType.Float16);
                private Tensor w = torch.zeros(4, dtype: ScalarType.Float32);

                Tensor Denominator() => v.sqrt().add_({|PP0009:1e-8|});

                Tensor Named() => v + {|PP0009:Eps|};

                Tensor Float32State() => w.sqrt().add_(1e-8);

                Tensor LargeEps() => v.sqrt().add_(1e-4);
            }
            """);

    // The field's writes in other members are found by searching the members' text for its name; a
    // member that may spell the name otherwise (\u0076 for v) is searched by binding it.
    [Fact]
    public Task Eps_added_to_float16_state_written_in_the_constructor_is_reported_however_the_constructor_spells_it() =>
        Verify<EpsilonUnderflowsInFp16Analyzer>.Analyzer("""
            using TorchSharp;
            using static TorchSharp.torch;

            class Rms
            {
                private Tensor v;
                private Tensor vw;
                private Tensor w;

                public Rms()
                {
                    \u0076 = torch.zeros(4, dtype: ScalarType.Float16);
                    vw = torch.zeros(4, dtype: ScalarType.Float16);
                    w = torch.zeros(4, dtype: ScalarType.Float32);
                }

                Tensor Escaped() => v.sqrt().add_({|PP0009:1e-8|});

                Tensor Longer() => vw.sqrt().add_({|PP0009:1e-8|});

                Tensor Float32State() => w.sqrt().add_(1e-8);
            }
            """);

    [Fact]
    public Task Eps_arguments_of_ops_and_modules_on_float16_are_reported() =>
        Verify<EpsilonUnderflowsInFp16Analyzer>.Analyzer("""
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            class Norms : nn.Module<Tensor, Tensor>
            {
                private readonly LayerNorm norm;

                Norms() : base("n")
                {
                    norm = nn.LayerNorm(4, eps: {|PP0009:1e-12|});
                    norm.half();
                }

                public override Tensor forward(Tensor x) => norm.call(x.half());

                Tensor Default(Tensor x) => {|PP0009:nn.functional.normalize(x.half(), dim: -1)|};

                Tensor Explicit(Tensor x) => nn.functional.layer_norm(x.half(), new long[] { 4 }, eps: {|PP0009:1e-12|});

                Tensor Representable(Tensor x) => nn.functional.normalize(x.half(), dim: -1, eps: 1e-4);

                Tensor Bf16(Tensor x) => nn.functional.normalize(x.bfloat16(), dim: -1);

                Tensor Float32(Tensor x) => nn.functional.normalize(x, dim: -1);
            }
            """);
}
