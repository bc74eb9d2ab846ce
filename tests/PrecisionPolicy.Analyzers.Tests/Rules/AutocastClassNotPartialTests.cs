using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Rules;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using PrecisionPolicy.CodeFixes;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests.Rules;

public sealed class AutocastClassNotPartialTests
{
    [Fact]
    public Task Partial_classes_and_unannotated_classes_are_not_reported() =>
        Verify<AutocastClassNotPartialAnalyzer>.Analyzer("""
            using PrecisionPolicy;
            using TorchSharp;
            using static TorchSharp.torch;

            [Autocast(Precision.BF16)]
            public sealed partial class Block : nn.Module<Tensor, Tensor>
            {
                public Block() : base("block") { }
                public override Tensor forward(Tensor x) => x;
            }

            public sealed class Plain : nn.Module<Tensor, Tensor>
            {
                public Plain() : base("plain") { }
                public override Tensor forward(Tensor x) => x;
            }

            // A non-module [Autocast] class is a cast region only: nothing is generated into it.
            [Autocast(Precision.BF16)]
            public static class AttentionMath
            {
                public static Tensor Scores(Tensor q, Tensor k) => torch.matmul(q, k);
            }
            """);

    [Fact]
    public Task The_message_names_the_type_that_is_not_partial()
    {
        var containingTypeMissing = new Microsoft.CodeAnalysis.Testing.DiagnosticResult(Descriptors.AutocastClassNotPartial)
            .WithSpan(8, 28, 8, 33).WithArguments("Models", "Inner");
        var classMissing = new Microsoft.CodeAnalysis.Testing.DiagnosticResult(Descriptors.AutocastClassNotPartial)
            .WithSpan(16, 14, 16, 19).WithArguments("Block", "Block");
        return Verify<AutocastClassNotPartialAnalyzer>.Analyzer("""
            using PrecisionPolicy;
            using TorchSharp;
            using static TorchSharp.torch;

            static class Models
            {
                [Autocast(Precision.FP16)]
                internal partial class Inner : nn.Module<Tensor, Tensor>
                {
                    public Inner() : base("inner") { }
                    public override Tensor forward(Tensor x) => x;
                }
            }

            [Autocast(Precision.BF16)]
            public class Block : nn.Module<Tensor, Tensor>
            {
                public Block() : base("block") { }
                public override Tensor forward(Tensor x) => x;
            }
            """, expected: [containingTypeMissing, classMissing]);
    }

    [Theory]
    [InlineData("false")]
    [InlineData("False")]
    public Task Nothing_is_reported_when_the_generator_is_switched_off(string value) =>
        Verify<AutocastClassNotPartialAnalyzer>.AnalyzerWithBuildProperties(NotPartialBlock, "build_property.EnablePrecisionPolicyGenerator = " + value);

    [Theory]
    [InlineData("true")]
    [InlineData("")]
    public Task A_switch_left_on_or_unset_still_reports(string value) =>
        Verify<AutocastClassNotPartialAnalyzer>.AnalyzerWithBuildProperties(
            NotPartialBlock, "build_property.EnablePrecisionPolicyGenerator = " + value,
            new Microsoft.CodeAnalysis.Testing.DiagnosticResult(Descriptors.AutocastClassNotPartial).WithSpan(6, 14, 6, 19).WithArguments("Block", "Block"));

    private const string NotPartialBlock = """
        using PrecisionPolicy;
        using TorchSharp;
        using static TorchSharp.torch;

        [Autocast(Precision.BF16)]
        public class Block : nn.Module<Tensor, Tensor>
        {
            public Block() : base("block") { }
            public override Tensor forward(Tensor x) => x;
        }
        """;

    [Fact]
    public Task Fix_all_makes_classes_and_containing_types_partial() =>
        Verify<AutocastClassNotPartialAnalyzer>.CodeFix<MakeAutocastClassPartialCodeFix>("""
            using PrecisionPolicy;
            using TorchSharp;
            using static TorchSharp.torch;

            [Autocast(Precision.BF16)]
            public sealed class {|PP0010:Block|} : nn.Module<Tensor, Tensor>
            {
                public Block() : base("block") { }
                public override Tensor forward(Tensor x) => x;
            }

            static class Models
            {
                [Autocast(Precision.FP16)]
                internal partial class {|PP0010:Inner|} : nn.Module<Tensor, Tensor, Tensor>
                {
                    public Inner() : base("inner") { }
                    public override Tensor forward(Tensor x, Tensor y) => x + y;
                }
            }

            [Autocast(Precision.BF16)]
            class {|PP0010:Bare|} : nn.Module<Tensor, Tensor>
            {
                public Bare() : base("bare") { }
                public override Tensor forward(Tensor x) => x;
            }
            """, """
            using PrecisionPolicy;
            using TorchSharp;
            using static TorchSharp.torch;

            [Autocast(Precision.BF16)]
            public sealed partial class Block : nn.Module<Tensor, Tensor>
            {
                public Block() : base("block") { }
                public override Tensor forward(Tensor x) => x;
            }

            static partial class Models
            {
                [Autocast(Precision.FP16)]
                internal partial class Inner : nn.Module<Tensor, Tensor, Tensor>
                {
                    public Inner() : base("inner") { }
                    public override Tensor forward(Tensor x, Tensor y) => x + y;
                }
            }

            [Autocast(Precision.BF16)]
            partial class Bare : nn.Module<Tensor, Tensor>
            {
                public Bare() : base("bare") { }
                public override Tensor forward(Tensor x) => x;
            }
            """);
}
