using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Rules;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using PrecisionPolicy.CodeFixes;
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

    [Fact]
    public Task Float32_ops_on_tensors_already_sixteen_bit_are_reported() =>
        Verify<LossOnLowPrecisionTensorsAnalyzer>.Analyzer("""
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            class Norms
            {
                private readonly Embedding embed;

                Norms()
                {
                    embed = nn.Embedding(16, 4);
                    embed.half();
                    var ones = torch.ones(4).half();
                    var init = ones.pow(2);
                }

                Tensor Rms(Tensor ids) => {|PP0019:embed.call(ids).pow(2)|}.mean(new long[] { -1 });

                Tensor Exp(Tensor r) => {|PP0019:torch.exp(r.type_as(embed.call(r)))|};

                Tensor Sum(Tensor x) => x.half().@float().sum();

                Tensor SumFloat32(Tensor x)
                {
                    var h = x.half();
                    return h.sum(type: ScalarType.Float32);
                }
            }
            """);

    [Fact]
    public Task The_fix_computes_in_float32_and_casts_back() =>
        Verify<LossOnLowPrecisionTensorsAnalyzer>.CodeFix<ComputeOpInFloat32CodeFix>("""
            using TorchSharp;
            using static TorchSharp.torch;

            class Norms
            {
                Tensor Run(Tensor x, Tensor y)
                {
                    var h = x.bfloat16();
                    var r = x.half();
                    var a = {|PP0019:h.pow(2)|};
                    var b = {|PP0019:torch.exp(r - 1)|};
                    return {|PP0019:nn.functional.mse_loss(r, y)|};
                }
            }
            """, """
            using TorchSharp;
            using static TorchSharp.torch;

            class Norms
            {
                Tensor Run(Tensor x, Tensor y)
                {
                    var h = x.bfloat16();
                    var r = x.half();
                    var a = h.@float().pow(2).bfloat16();
                    var b = torch.exp((r - 1).@float()).half();
                    return nn.functional.mse_loss(r.@float(), y);
                }
            }
            """);
}
