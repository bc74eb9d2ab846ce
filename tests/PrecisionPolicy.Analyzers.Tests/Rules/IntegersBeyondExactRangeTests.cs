using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Rules;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests.Rules;

public sealed class IntegersBeyondExactRangeTests
{
    [Fact]
    public Task Positions_and_timesteps_beyond_the_exact_range_are_reported() =>
        Verify<IntegersBeyondExactRangeAnalyzer>.Analyzer("""
            using TorchSharp;
            using static TorchSharp.torch;

            class Rope
            {
                private readonly Tensor invFreq = torch.ones(8).bfloat16();
                private readonly Tensor timesteps = torch.linspace(1000, 0, 50);

                Tensor Positions(long seqLen) => {|PP0022:torch.arange(seqLen).type_as(invFreq)|};

                Tensor Created(long seqLen) => {|PP0022:torch.arange(seqLen, dtype: invFreq.dtype)|};

                Tensor Half() => {|PP0022:torch.arange(4096).unsqueeze(-1).half()|};

                Tensor Timestep(int i) => {|PP0022:timesteps[i].to(ScalarType.BFloat16)|};
            }
            """);

    [Fact]
    public Task Small_ranges_float32_and_other_values_are_not_reported() =>
        Verify<IntegersBeyondExactRangeAnalyzer>.Analyzer("""
            using TorchSharp;
            using static TorchSharp.torch;

            class Rope
            {
                Tensor Small() => torch.arange(64).to(ScalarType.BFloat16);

                Tensor HalfUpTo2048() => torch.arange(2048).half();

                Tensor Float32(long seqLen) => torch.arange(seqLen).@float();

                Tensor Computed(long seqLen) => torch.arange(seqLen).@float().sin().bfloat16();

                Tensor Other(Tensor x) => x.bfloat16();
            }
            """);
}
