using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Rules;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using PrecisionPolicy.CodeFixes;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests.Rules;

public sealed class GradientAccumulatorInLowPrecisionTests
{
    [Fact]
    public Task Local_accumulators_created_in_low_precision_are_reported() =>
        Verify<GradientAccumulatorInLowPrecisionAnalyzer>.Analyzer("""
            using TorchSharp;
            using static TorchSharp.torch;

            class Loop
            {
                void Accumulate(Tensor p)
                {
                    var acc = torch.zeros_like(p, dtype: {|PP0002:ScalarType.BFloat16|});
                    acc.add_(p.grad);
                    var sum = {|PP0002:torch.zeros_like(p).half()|};
                    sum += p.grad;
                    var total = torch.zeros_like(p).to({|PP0002:ScalarType.Float16|});
                    total = total + p.grad;
                }
            }
            """);

    [Fact]
    public Task Field_accumulators_and_marked_members_are_reported() =>
        Verify<GradientAccumulatorInLowPrecisionAnalyzer>.Analyzer("""
            using PrecisionPolicy;
            using TorchSharp;
            using static TorchSharp.torch;

            class Trainer
            {
                private Tensor buffer = torch.zeros(10, dtype: {|PP0002:ScalarType.Float16|});
                [GradientAccumulator] private Tensor? marked;

                void Init(Tensor p) => marked = {|PP0002:p.bfloat16()|};

                void Accumulate(Tensor p) => buffer.add_(p.grad);
            }
            """);

    [Fact]
    public Task Accumulators_followed_through_lists_arrays_fields_and_helpers_are_reported() =>
        Verify<GradientAccumulatorInLowPrecisionAnalyzer>.Analyzer("""
            using System.Collections.Generic;
            using System.Linq;
            using TorchSharp;
            using static TorchSharp.torch;

            class Accumulation
            {
                private static readonly ScalarType Half = ScalarType.Float16;

                void Linq(IList<Tensor> ps)
                {
                    var bufs = ps.Select(p => torch.zeros_like(p, dtype: {|PP0002:torch.float16|})).ToList();
                    for (var i = 0; i < ps.Count; i++)
                    {
                        bufs[i].add_(ps[i].grad);
                    }
                }

                void Array(Tensor[] ps)
                {
                    var acc = new Tensor[ps.Length];
                    for (var i = 0; i < ps.Length; i++)
                    {
                        acc[i] = torch.zeros_like(ps[i], dtype: {|PP0002:Half|});
                    }

                    for (var i = 0; i < ps.Length; i++)
                    {
                        acc[i] += ps[i].grad;
                    }
                }

                private static Tensor MakeBuffer(Tensor p) => {|PP0002:torch.zeros_like(p).bfloat16()|};

                void Helper(Tensor p)
                {
                    var buffer = MakeBuffer(p);
                    var g = p.grad;
                    buffer.add_(g);
                }
            }
            """);

    [Fact]
    public Task Nested_and_partial_types_report_once() =>
        Verify<GradientAccumulatorInLowPrecisionAnalyzer>.Analyzer("""
            using TorchSharp;
            using static TorchSharp.torch;

            partial class Outer
            {
                private Tensor buffer = torch.zeros(10, dtype: {|PP0002:ScalarType.Float16|});

                class Inner
                {
                    void Accumulate(Tensor p)
                    {
                        var acc = {|PP0002:p.half()|};
                        acc += p.grad;
                    }
                }
            }

            partial class Outer
            {
                void Accumulate(Tensor p) => buffer.add_(p.grad);
            }
            """);

    [Fact]
    public Task Float32_accumulators_and_unrelated_half_tensors_are_not_reported() =>
        Verify<GradientAccumulatorInLowPrecisionAnalyzer>.Analyzer("""
            using TorchSharp;
            using static TorchSharp.torch;

            class Loop
            {
                void Accumulate(Tensor p, Tensor x)
                {
                    var acc = torch.zeros_like(p, dtype: ScalarType.Float32);
                    acc.add_(p.grad);
                    var sum = torch.zeros_like(p);
                    sum += p.grad;
                    var activations = x.half();
                    activations.add_(x);
                    var h = x.half();
                    h = h + x;
                }
            }
            """);

    [Fact]
    public Task Fix_all_creates_accumulators_in_float32() =>
        Verify<GradientAccumulatorInLowPrecisionAnalyzer>.CodeFix<UseFloat32CodeFix>("""
            using TorchSharp;
            using static TorchSharp.torch;

            class Loop
            {
                void Accumulate(Tensor p)
                {
                    var acc = torch.zeros_like(p, dtype: {|PP0002:ScalarType.BFloat16|});
                    acc.add_(p.grad);
                    var sum = {|PP0002:torch.zeros_like(p).half()|};
                    sum += p.grad;
                }
            }
            """, """
            using TorchSharp;
            using static TorchSharp.torch;

            class Loop
            {
                void Accumulate(Tensor p)
                {
                    var acc = torch.zeros_like(p, dtype: ScalarType.Float32);
                    acc.add_(p.grad);
                    var sum = torch.zeros_like(p).@float();
                    sum += p.grad;
                }
            }
            """);
}
