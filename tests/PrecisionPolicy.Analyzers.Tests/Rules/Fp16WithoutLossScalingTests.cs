using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Rules;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using PrecisionPolicy.CodeFixes;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests.Rules;

public sealed class Fp16WithoutLossScalingTests
{
    [Fact]
    public Task Fp16_autocast_with_scaling_off_is_reported_and_fixed() =>
        Verify<Fp16WithoutLossScalingAnalyzer>.CodeFix<UseDynamicLossScalingCodeFix>("""
            using PrecisionPolicy;
            using TorchSharp;
            using static TorchSharp.torch;

            [Autocast(Precision.FP16)]
            [LossScaling({|PP0004:LossScalingMode.Off|})]
            partial class Net : nn.Module<Tensor, Tensor>
            {
                public Net() : base("net") { }
                public override Tensor forward(Tensor x) => x;
            }

            [LossScaling({|PP0004:LossScalingMode.Off|})]
            partial class Mixed : nn.Module<Tensor, Tensor>
            {
                public Mixed() : base("mixed") { }

                [Autocast(Precision.FP16)]
                public override Tensor forward(Tensor x) => x;
            }
            """, """
            using PrecisionPolicy;
            using TorchSharp;
            using static TorchSharp.torch;

            [Autocast(Precision.FP16)]
            [LossScaling(LossScalingMode.Dynamic)]
            partial class Net : nn.Module<Tensor, Tensor>
            {
                public Net() : base("net") { }
                public override Tensor forward(Tensor x) => x;
            }

            [LossScaling(LossScalingMode.Dynamic)]
            partial class Mixed : nn.Module<Tensor, Tensor>
            {
                public Mixed() : base("mixed") { }

                [Autocast(Precision.FP16)]
                public override Tensor forward(Tensor x) => x;
            }
            """);

    [Fact]
    public Task Bf16_with_scaling_off_and_fp16_with_scaling_are_not_reported() =>
        Verify<Fp16WithoutLossScalingAnalyzer>.Analyzer("""
            using PrecisionPolicy;
            using TorchSharp;
            using static TorchSharp.torch;

            [Autocast(Precision.BF16)]
            [LossScaling(LossScalingMode.Off)]
            partial class Bf16 : nn.Module<Tensor, Tensor>
            {
                public Bf16() : base("bf16") { }
                public override Tensor forward(Tensor x) => x;
            }

            [Autocast(Precision.FP16)]
            [LossScaling(LossScalingMode.Dynamic)]
            partial class Fp16 : nn.Module<Tensor, Tensor>
            {
                public Fp16() : base("fp16") { }
                public override Tensor forward(Tensor x) => x;
            }
            """);

    [Fact]
    public Task Hand_written_fp16_loop_without_scaler_is_reported() =>
        Verify<Fp16WithoutLossScalingAnalyzer>.Analyzer("""
            using TorchSharp;
            using static TorchSharp.torch;

            class Loop
            {
                void Train(Tensor x, Tensor y)
                {
                    var model = nn.Linear(4, 4).half();
                    var loss = nn.functional.mse_loss(model.call(x.half()).@float(), y);
                    {|PP0004:loss.backward()|};
                }

                void Chained(Tensor x, Tensor y)
                {
                    var model = nn.Linear(4, 4);
                    model.half();
                    var h = model.forward(x.half());
                    var logits = h.@float();
                    {|PP0004:nn.functional.mse_loss(logits, y).backward()|};
                }
            }
            """);

    [Fact]
    public Task Scaled_or_bf16_loops_are_not_reported() =>
        Verify<Fp16WithoutLossScalingAnalyzer>.Analyzer("""
            using PrecisionPolicy; using PrecisionPolicy.Optimization; using PrecisionPolicy.Scaling;
            using TorchSharp;
            using static TorchSharp.torch;

            class Loop
            {
                void WithScaler(Tensor x, Tensor y)
                {
                    var scaler = new LossScaler();
                    var model = nn.Linear(4, 4).half();
                    var loss = nn.functional.mse_loss(model.call(x.half()).@float(), y);
                    (loss * scaler.Scale).backward();
                }

                void ManualScale(Tensor x, Tensor y, double scale)
                {
                    var model = nn.Linear(4, 4).half();
                    var loss = nn.functional.mse_loss(model.call(x.half()).@float(), y);
                    (loss * scale).backward();
                }

                void Bf16(Tensor x, Tensor y)
                {
                    var model = nn.Linear(4, 4).bfloat16();
                    var loss = nn.functional.mse_loss(model.call(x.bfloat16()).@float(), y);
                    loss.backward();
                }

                void FrozenFp16Teacher(Tensor x, Tensor y)
                {
                    var teacher = nn.Linear(4, 4).half();
                    var student = nn.Linear(4, 4);
                    var target = teacher.call(x.half()).detach().@float();
                    var loss = nn.functional.mse_loss(student.call(x), target);
                    loss.backward();
                }

                void NoGradTeacher(Tensor x, Tensor y)
                {
                    var teacher = nn.Linear(4, 4).half();
                    var student = nn.Linear(4, 4);
                    Tensor target;
                    using (torch.no_grad())
                    {
                        target = teacher.call(x.half()).@float();
                    }

                    var loss = nn.functional.mse_loss(student.call(x), target);
                    loss.backward();
                }

                void NoGradDeclaration(Tensor x, Tensor y)
                {
                    var teacher = nn.Linear(4, 4).half();
                    var student = nn.Linear(4, 4);
                    Tensor target;
                    {
                        using var frozen = torch.no_grad();
                        target = teacher.call(x.half()).@float();
                    }

                    var loss = nn.functional.mse_loss(student.call(x), target);
                    loss.backward();
                }

                void MasterWeights(MasterWeightOptimizer opt, Tensor x, Tensor y)
                {
                    var model = nn.Linear(4, 4).half();
                    var loss = nn.functional.mse_loss(model.call(x.half()).@float(), y);
                    opt.Step(loss);
                }
            }
            """);
}
