using System;
using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Rules;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests.Rules;

public sealed class RunningSumInLowPrecisionTests
{
    [Fact]
    public Task Sixteen_bit_running_sums_are_reported() =>
        Verify<RunningSumInLowPrecisionAnalyzer>.Analyzer("""
            using System;
            using TorchSharp;
            using static TorchSharp.torch;

            class Epoch
            {
                void Sums(Tensor[] losses)
                {
                    Half total = (Half)0;
                    var running = torch.zeros(1, dtype: ScalarType.Float16);
                    var correct = torch.zeros(1).bfloat16();
                    foreach (var loss in losses)
                    {
                        {|PP0018:total += (Half)loss.item<float>()|};
                        {|PP0018:running = running + loss.detach()|};
                        {|PP0018:correct.add_(loss.argmax())|};
                    }
                }
            }
            """);

    [Fact]
    public Task Float32_sums_and_per_step_values_are_not_reported() =>
        Verify<RunningSumInLowPrecisionAnalyzer>.Analyzer("""
            using System;
            using TorchSharp;
            using static TorchSharp.torch;

            class Epoch
            {
                void Sums(Tensor[] losses)
                {
                    double total = 0;
                    var running = torch.zeros(1, dtype: ScalarType.Float32);
                    foreach (var loss in losses)
                    {
                        total += loss.item<float>();
                        running = running + loss.detach().@float();
                        var step = torch.zeros(1, dtype: ScalarType.Float16);
                        step += loss.half();
                    }
                }
            }
            """);
}
