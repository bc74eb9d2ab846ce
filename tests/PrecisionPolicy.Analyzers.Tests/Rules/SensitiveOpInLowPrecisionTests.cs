using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Rules;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using PrecisionPolicy.CodeFixes;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests.Rules;

public sealed class SensitiveOpInLowPrecisionTests
{
    [Fact]
    public Task Explicit_dtypes_and_input_casts_are_reported() =>
        Verify<SensitiveOpInLowPrecisionAnalyzer>.Analyzer("""
            using TorchSharp;
            using static TorchSharp.torch;

            class Ops
            {
                void Run(Tensor x, Tensor y)
                {
                    var a = nn.functional.softmax(x, -1, dtype: {|PP0008:ScalarType.Float16|});
                    var b = x.log_softmax(-1, {|PP0008:ScalarType.BFloat16|});
                    var c = torch.exp({|PP0008:x.half()|});
                    var d = {|PP0008:x.bfloat16()|}.log();
                    var e = x.sum(type: {|PP0008:ScalarType.Float16|});
                    var f = nn.functional.mse_loss(x.to({|PP0008:ScalarType.Float16|}), y);
                    var g = {|PP0008:nn.functional.cross_entropy(x, y).half()|};
                }
            }
            """);

    [Fact]
    public Task Float32_sensitive_ops_and_low_precision_matmuls_are_not_reported() =>
        Verify<SensitiveOpInLowPrecisionAnalyzer>.Analyzer("""
            using TorchSharp;
            using static TorchSharp.torch;

            class Ops
            {
                void Run(Tensor x, Tensor y)
                {
                    var a = nn.functional.softmax(x, -1, dtype: ScalarType.Float32);
                    var b = nn.functional.softmax(x.half().@float(), -1);
                    var c = torch.matmul(x.half(), y.half());
                    var attention = nn.functional.softmax(x, -1).half();
                    var loss = nn.functional.mse_loss(x, y);
                    var h = x.half();
                    var d = torch.exp(h);
                }
            }
            """);

    [Fact]
    public Task Fix_all_computes_in_float32_and_keeps_the_result_dtype() =>
        Verify<SensitiveOpInLowPrecisionAnalyzer>.CodeFix<ComputeInFloat32CodeFix>("""
            using TorchSharp;
            using static TorchSharp.torch;

            class Ops
            {
                void Run(Tensor x, Tensor y)
                {
                    var a = nn.functional.softmax(x, -1, dtype: {|PP0008:ScalarType.Float16|});
                    var c = torch.exp({|PP0008:x.half()|});
                    var d = x.to({|PP0008:ScalarType.BFloat16|}).log();
                    var g = {|PP0008:nn.functional.cross_entropy(x, y).half()|};
                    var f = nn.functional.mse_loss(x.to({|PP0008:ScalarType.Float16|}), y);
                }

                // The softmax result still reaches the 16-bit matmul as float16.
                Tensor Attend(Tensor scores, Tensor v)
                {
                    var weights = {|PP0008:scores.half()|}.softmax(-1);
                    return weights.matmul(v.half());
                }
            }
            """, """
            using TorchSharp;
            using static TorchSharp.torch;

            class Ops
            {
                void Run(Tensor x, Tensor y)
                {
                    var a = nn.functional.softmax(x, -1, dtype: ScalarType.Float32).to(ScalarType.Float16);
                    var c = torch.exp(x.@float()).half();
                    var d = x.to(ScalarType.Float32).log().to(ScalarType.BFloat16);
                    var g = nn.functional.cross_entropy(x, y);
                    var f = nn.functional.mse_loss(x, y);
                }

                // The softmax result still reaches the 16-bit matmul as float16.
                Tensor Attend(Tensor scores, Tensor v)
                {
                    var weights = scores.@float().softmax(-1).half();
                    return weights.matmul(v.half());
                }
            }
            """);
}
