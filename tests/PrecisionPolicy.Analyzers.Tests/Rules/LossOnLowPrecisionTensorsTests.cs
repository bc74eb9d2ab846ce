using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Rules;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests.Rules;

public sealed class LossOnLowPrecisionTensorsTests
{
    [Fact]
    public Task Losses_on_sixteen_bit_outputs_are_reported() =>
        Verify<LossOnLowPrecisionTensorsAnalyzer>.Analyzer("""
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            class Training
            {
                private readonly Linear model = nn.Linear(4, 4).half();

                Tensor Loss(Tensor x, Tensor y)
                {
                    var input = x.half();
                    var target = y.half();
                    return {|PP0019:nn.functional.mse_loss(model.call(input), target)|};
                }

                Tensor Cross(Tensor x, Tensor labels) => {|PP0019:nn.functional.cross_entropy(model.forward(x.half()), labels)|};
            }
            """);

    [Fact]
    public Task Float32_losses_and_policy_regions_are_not_reported() =>
        Verify<LossOnLowPrecisionTensorsAnalyzer>.Analyzer("""
            using PrecisionPolicy;
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            class Training
            {
                private readonly Linear model = nn.Linear(4, 4).half();

                Tensor Upcast(Tensor x, Tensor y) => nn.functional.mse_loss(model.call(x.half()).@float(), y);

                Tensor Float32(Linear other, Tensor x, Tensor y) => nn.functional.mse_loss(other.call(x), y);

                [Autocast(Precision.FP16)]
                Tensor Region(Tensor x, Tensor y) => nn.functional.mse_loss(model.call(x.half()), y);
            }
            """);
}
