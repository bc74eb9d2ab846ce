using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Rules;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using PrecisionPolicy.CodeFixes;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests.Rules;

public sealed class FillOutOfRangeTests
{
    [Fact]
    public Task Fills_beyond_float16_are_reported_wherever_the_dtype_came_from() =>
        Verify<FillOutOfRangeAnalyzer>.Analyzer("""
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            class Attention
            {
                private readonly Linear proj;

                Attention()
                {
                    proj = nn.Linear(4, 4);
                    proj.half();
                }

                Tensor FromField(Tensor x, Tensor mask) => proj.call(x).masked_fill(mask, {|PP0021:-1e9|});

                Tensor FromTypeAs(Tensor x, Tensor other, Tensor mask)
                {
                    var h = x.type_as(other.half());
                    h.masked_fill_(mask, {|PP0021:float.MinValue|});
                    return h;
                }

                Tensor Finfo(Tensor x, Tensor mask)
                {
                    var h = x.to(ScalarType.Float16);
                    return h.masked_fill(mask, {|PP0021:-torch.finfo(torch.float32).max|});
                }

                Tensor FullLike(Tensor x) => torch.full_like(x.half(), {|PP0021:1e6|});
            }
            """);

    [Fact]
    public Task Fills_the_dtype_holds_and_unknown_dtypes_are_not_reported() =>
        Verify<FillOutOfRangeAnalyzer>.Analyzer("""
            using TorchSharp;
            using static TorchSharp.torch;

            class Attention
            {
                Tensor Float32(Tensor x, Tensor mask) => x.@float().masked_fill(mask, -1e9);

                Tensor Bf16(Tensor x, Tensor mask) => x.bfloat16().masked_fill(mask, -1e9);

                Tensor Representable(Tensor x, Tensor mask) => x.half().masked_fill(mask, -65504.0);

                Tensor Infinity(Tensor x, Tensor mask) => x.half().masked_fill(mask, double.NegativeInfinity);

                Tensor OwnLimit(Tensor x, Tensor mask)
                {
                    var h = x.half();
                    return h.masked_fill(mask, torch.finfo(h.dtype).min);
                }

                Tensor Unknown(Tensor x, Tensor mask) => x.masked_fill(mask, -1e9);
            }
            """);

    [Fact]
    public Task The_fix_uses_the_tensors_own_limit() =>
        Verify<FillOutOfRangeAnalyzer>.CodeFix<UseFinfoLimitCodeFix>("""
            using TorchSharp;
            using static TorchSharp.torch;

            class Attention
            {
                Tensor Mask(Tensor x, Tensor mask)
                {
                    var scores = x.half();
                    scores.masked_fill_(mask, {|PP0021:1e9|});
                    return scores.masked_fill(mask, {|PP0021:-1e9|});
                }
            }
            """, """
            using TorchSharp;
            using static TorchSharp.torch;

            class Attention
            {
                Tensor Mask(Tensor x, Tensor mask)
                {
                    var scores = x.half();
                    scores.masked_fill_(mask, finfo(scores.dtype).max);
                    return scores.masked_fill(mask, finfo(scores.dtype).min);
                }
            }
            """);
}
