using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Rules;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests.Rules;

public sealed class OptimizerOverLowPrecisionParametersTests
{
    [Fact]
    public Task Optimizers_over_cast_modules_are_reported() =>
        Verify<OptimizerOverLowPrecisionParametersAnalyzer>.Analyzer("""
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            class Setup
            {
                void Half()
                {
                    var model = nn.Linear(4, 4);
                    model.half();
                    var opt = {|PP0003:optim.AdamW(model.parameters(), lr: 1e-3)|};
                }

                void Chained()
                {
                    var model = nn.Linear(4, 4).to(ScalarType.BFloat16);
                    var opt = {|PP0003:optim.SGD(model.parameters(), 0.1)|};
                }

                void ThenMoved()
                {
                    var model = nn.Linear(4, 4).half().to(torch.CPU);
                    var opt = {|PP0003:optim.SGD(model.parameters(), 0.1)|};
                }

                void Reassigned(Linear model)
                {
                    model = model.bfloat16();
                    var opt = {|PP0003:optim.Adam(model.parameters())|};
                }
            }
            """);

    [Fact]
    public Task Top_level_training_scripts_are_analyzed() =>
        Verify<OptimizerOverLowPrecisionParametersAnalyzer>.Analyzer("""
            using TorchSharp;
            using static TorchSharp.torch;

            var model = nn.Linear(4, 4).half();
            var opt = {|PP0003:optim.Adam(model.parameters())|};
            """, Microsoft.CodeAnalysis.OutputKind.ConsoleApplication);

    [Fact]
    public Task Float32_modules_and_other_modules_are_not_reported() =>
        Verify<OptimizerOverLowPrecisionParametersAnalyzer>.Analyzer("""
            using TorchSharp;
            using static TorchSharp.torch;

            class Setup
            {
                void Float()
                {
                    var model = nn.Linear(4, 4);
                    var opt = optim.AdamW(model.parameters(), lr: 1e-3);
                }

                void OtherModuleCast()
                {
                    var model = nn.Linear(4, 4);
                    var teacher = nn.Linear(4, 4).half();
                    var opt = optim.AdamW(model.parameters());
                }

                void CastBackToFloat32()
                {
                    var model = nn.Linear(4, 4).to(ScalarType.Float32);
                    var opt = optim.Adam(model.parameters());
                }
            }
            """);

    [Fact]
    public Task Cast_in_another_method_is_followed_through_the_field() =>
        Verify<OptimizerOverLowPrecisionParametersAnalyzer>.Analyzer("""
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            class Setup
            {
                private readonly Linear model = nn.Linear(4, 4);

                void Cast() => model.half();

                void Build() => {|PP0003:optim.Adam(model.parameters())|};
            }
            """);
}
