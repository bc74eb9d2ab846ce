using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Rules;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests.Rules;

public sealed class AutocastClassNotModuleTests
{
    [Fact]
    public Task Autocast_on_non_module_class_is_reported() =>
        Verify<AutocastClassNotModuleAnalyzer>.Analyzer("""
            using PrecisionPolicy;

            [{|PP0011:Autocast(Precision.BF16)|}]
            partial class Trainer
            {
            }
            """);

    [Fact]
    public Task Modules_of_every_arity_and_autocast_methods_are_not_reported() =>
        Verify<AutocastClassNotModuleAnalyzer>.Analyzer("""
            using PrecisionPolicy;
            using TorchSharp;
            using static TorchSharp.torch;

            [Autocast(Precision.BF16)]
            partial class One : nn.Module<Tensor, Tensor>
            {
                public One() : base("one") { }
                public override Tensor forward(Tensor x) => x;
            }

            [Autocast(Precision.BF16)]
            partial class Three : nn.Module<Tensor, Tensor, Tensor, Tensor>
            {
                public Three() : base("three") { }
                public override Tensor forward(Tensor x, Tensor y, Tensor z) => x + y + z;
            }

            [Autocast(Precision.FP16)]
            partial class Derived : One
            {
            }

            class Helpers
            {
                [Autocast(Precision.BF16)]
                public static Tensor Attention(Tensor q, Tensor k) => torch.matmul(q, k);
            }
            """);

    [Fact]
    public Task Static_helper_class_is_a_region_and_is_not_reported() =>
        Verify<AutocastClassNotModuleAnalyzer>.Analyzer("""
            using PrecisionPolicy;
            using TorchSharp;
            using static TorchSharp.torch;

            [Autocast(Precision.BF16)]
            static class AttentionMath
            {
                public static Tensor Scores(Tensor q, Tensor k) => torch.matmul(q, k);
            }

            [{|PP0011:Autocast(Precision.BF16)|}]
            sealed class Kernels
            {
                public static Tensor Scores(Tensor q, Tensor k) => torch.matmul(q, k);
            }
            """);
}
