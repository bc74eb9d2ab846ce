using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Rules;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using PrecisionPolicy.CodeFixes;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests.Rules;

public sealed class OptimizerStateInLowPrecisionTests
{
    [Fact]
    public Task Well_known_state_names_created_in_half_are_reported() =>
        Verify<OptimizerStateInLowPrecisionAnalyzer>.Analyzer("""
            using TorchSharp;
            using static TorchSharp.torch;

            class Adam16
            {
                void Init(Tensor p)
                {
                    var exp_avg = torch.zeros_like(p, dtype: {|PP0001:ScalarType.Float16|});
                    var expAvgSq = {|PP0001:torch.zeros_like(p).half()|};
                    var momentum_buffer = p.detach().to({|PP0001:torch.bfloat16|});
                    var square_avg = p.to({|PP0001:(ScalarType)24|});
                }
            }
            """);

    [Fact]
    public Task Float_state_and_ordinary_half_tensors_are_not_reported() =>
        Verify<OptimizerStateInLowPrecisionAnalyzer>.Analyzer("""
            using TorchSharp;
            using static TorchSharp.torch;

            class Adam32
            {
                void Init(Tensor p)
                {
                    var exp_avg = torch.zeros_like(p, dtype: ScalarType.Float32);
                    var exp_avg_sq = torch.zeros_like(p).half().@float();
                    var activations = p.half();
                    var weights = torch.zeros_like(p, dtype: ScalarType.BFloat16);
                    var exp_inf = p.to((ScalarType)6);
                    var acc_delta = p.half().to(p);
                }
            }
            """);

    [Fact]
    public Task Fields_of_optimizer_classes_and_marked_members_are_reported() =>
        Verify<OptimizerStateInLowPrecisionAnalyzer>.Analyzer("""
            using System.Collections.Generic;
            using PrecisionPolicy;
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            class Lion : OptimizerHelper
            {
                private Tensor avg = torch.zeros(10, dtype: {|PP0001:ScalarType.Float16|});
            }

            class Custom
            {
                [OptimizerState] private Tensor? velocity;
                private Tensor? scratch;
                private readonly Dictionary<string, Tensor> state = new();

                void Init(Tensor p)
                {
                    velocity = {|PP0001:p.bfloat16()|};
                    scratch = p.bfloat16();
                    state["exp_avg"] = torch.zeros_like(p, dtype: {|PP0001:ScalarType.Float16|});
                    state["other"] = torch.zeros_like(p, dtype: ScalarType.Float16);
                }
            }
            """);

    [Fact]
    public Task Fix_makes_state_float32() =>
        Verify<OptimizerStateInLowPrecisionAnalyzer>.CodeFix<UseFloat32CodeFix>("""
            using TorchSharp;
            using static TorchSharp.torch;

            class Adam16
            {
                void Init(Tensor p)
                {
                    var exp_avg = torch.zeros_like(p, dtype: {|PP0001:ScalarType.Float16|});
                    var exp_avg_sq = {|PP0001:torch.zeros_like(p).half()|};
                    var momentum_buffer = p.detach().to({|PP0001:torch.bfloat16|});
                }
            }
            """, """
            using TorchSharp;
            using static TorchSharp.torch;

            class Adam16
            {
                void Init(Tensor p)
                {
                    var exp_avg = torch.zeros_like(p, dtype: ScalarType.Float32);
                    var exp_avg_sq = torch.zeros_like(p).@float();
                    var momentum_buffer = p.detach().to(torch.float32);
                }
            }
            """);
}
