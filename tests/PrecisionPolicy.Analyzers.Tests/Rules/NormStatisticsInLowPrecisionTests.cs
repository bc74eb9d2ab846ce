using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Rules;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using PrecisionPolicy.CodeFixes;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests.Rules;

public sealed class NormStatisticsInLowPrecisionTests
{
    [Fact]
    public Task Norm_layers_and_statistics_in_low_precision_are_reported() =>
        Verify<NormStatisticsInLowPrecisionAnalyzer>.Analyzer("""
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            class Setup
            {
                void Cast(BatchNorm2d bn, LayerNorm ln, GroupNorm gn)
                {
                    {|PP0007:bn.half()|};
                    ln.to({|PP0007:ScalarType.BFloat16|});
                    {|PP0007:gn.bfloat16()|};
                    var mean = {|PP0007:bn.running_mean.half()|};
                    var bn1 = nn.BatchNorm1d(8, dtype: {|PP0007:ScalarType.Float16|});
                }
            }
            """);

    [Fact]
    public Task Float32_norms_and_low_precision_linears_are_not_reported() =>
        Verify<NormStatisticsInLowPrecisionAnalyzer>.Analyzer("""
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            class Setup
            {
                void Cast(BatchNorm2d bn, LayerNorm ln, Linear fc, Tensor x)
                {
                    bn.@float();
                    ln.to(ScalarType.Float32);
                    fc.half();
                    var w = fc.weight!.bfloat16();
                    var y = x.half();
                    var bn1 = nn.BatchNorm1d(8, dtype: ScalarType.Float32);
                }
            }
            """);

    [Fact]
    public Task Fix_all_keeps_norms_in_float32() =>
        Verify<NormStatisticsInLowPrecisionAnalyzer>.CodeFix<UseFloat32CodeFix>("""
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            class Setup
            {
                void Cast(BatchNorm2d bn, LayerNorm ln, GroupNorm gn, bool cast)
                {
                    var a = {|PP0007:bn.half()|};
                    var b = ln.to({|PP0007:torch.float16|});
                    {|PP0007:gn.half()|};
                    if (cast) {|PP0007:gn.bfloat16()|};
                }
            }
            """, """
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            class Setup
            {
                void Cast(BatchNorm2d bn, LayerNorm ln, GroupNorm gn, bool cast)
                {
                    var a = bn;
                    var b = ln.to(torch.float32);
                    if (cast) gn.@float();
                }
            }
            """);
}
