using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Rules;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests.Rules;

public sealed class OptimizerOverLowPrecisionParametersTests
{
    [Fact]
    public Task OptimizersOverCastModulesAreReported() =>
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
    public Task TopLevelTrainingScriptsAreAnalyzed() =>
        Verify<OptimizerOverLowPrecisionParametersAnalyzer>.Analyzer("""
            using TorchSharp;
            using static TorchSharp.torch;

            var model = nn.Linear(4, 4).half();
            var opt = {|PP0003:optim.Adam(model.parameters())|};
            """, Microsoft.CodeAnalysis.OutputKind.ConsoleApplication);

    [Fact]
    public Task Float32ModulesAndOtherModulesAreNotReported() =>
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
    public Task CastInAnotherMethodIsFollowedThroughTheField() =>
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
