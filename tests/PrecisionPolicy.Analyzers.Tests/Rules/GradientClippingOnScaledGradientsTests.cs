using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Rules;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests.Rules;

public sealed class GradientClippingOnScaledGradientsTests
{
    [Fact]
    public Task Clipping_after_scaled_backward_is_reported() =>
        Verify<GradientClippingOnScaledGradientsAnalyzer>.Analyzer("""
            using PrecisionPolicy; using PrecisionPolicy.Optimization; using PrecisionPolicy.Scaling;
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            class Loop
            {
                void ScaleVariable(Linear model, Tensor loss, LossScaler scaler)
                {
                    var s = scaler.Scale;
                    (loss * s).backward();
                    {|PP0005:nn.utils.clip_grad_norm_(model.parameters(), 1.0)|};
                }

                void MethodForm(Linear model, Tensor loss, LossScaler scaler)
                {
                    loss.mul(scaler.Scale).backward();
                    {|PP0005:nn.utils.clip_grad_norm_(model.parameters(), 1.0)|};
                }

                private const double InitialScale = 65536;

                void ConstantField(Linear model, Tensor loss)
                {
                    var scaled = loss.mul(InitialScale);
                    scaled.backward();
                    {|PP0005:nn.utils.clip_grad_norm_(model.parameters(), 1.0)|};
                }

                private double current = 1024;

                void Field(Linear model, Tensor loss)
                {
                    (loss * current).backward();
                    {|PP0005:nn.utils.clip_grad_norm_(model.parameters(), 1.0)|};
                }

                void Scaler(Linear model, Tensor loss, LossScaler scaler)
                {
                    var scaled = loss * scaler.Scale;
                    scaled.backward();
                    {|PP0005:nn.utils.clip_grad_value_(model.parameters(), 1.0)|};
                }

                void Literal(Linear model, Tensor loss)
                {
                    (loss * 65536.0).backward();
                    {|PP0005:nn.utils.clip_grad_norm_(model.parameters(), 1.0)|};
                }
            }
            """);

    [Fact]
    public Task Clipping_after_unscale_or_of_unscaled_loss_is_not_reported() =>
        Verify<GradientClippingOnScaledGradientsAnalyzer>.Analyzer("""
            using PrecisionPolicy; using PrecisionPolicy.Optimization;
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            class Loop
            {
                void Unscaled(Linear model, Tensor loss, double scale)
                {
                    (loss * scale).backward();
                    foreach (var p in model.parameters())
                    {
                        p.grad?.div_(scale);
                    }

                    nn.utils.clip_grad_norm_(model.parameters(), 1.0);
                }

                // A name is no evidence: accumScale is 1/8, the gradient accumulation weight.
                void AccumulationWeight(Linear model, Tensor[] losses)
                {
                    const int accumSteps = 8;
                    var accumScale = 1.0 / accumSteps;
                    foreach (var loss in losses)
                    {
                        (loss * accumScale).backward();
                    }

                    nn.utils.clip_grad_norm_(model.parameters(), 1.0);
                }

                // An unknown factor is not taken as a scale, whatever it is called.
                void UnknownFactor(Linear model, Tensor loss, double lossScale)
                {
                    loss.mul(lossScale).backward();
                    nn.utils.clip_grad_norm_(model.parameters(), 1.0);
                }

                void Weighted(Linear model, Tensor loss)
                {
                    (loss * 0.5).backward();
                    nn.utils.clip_grad_norm_(model.parameters(), 1.0);
                }

                void Plain(Linear model, Tensor loss)
                {
                    loss.backward();
                    nn.utils.clip_grad_norm_(model.parameters(), 1.0);
                }

                // MasterWeightOptimizer.Backward leaves the unscaled FP32 gradients in .grad (BF16 and FP16 alike).
                void MasterWeights(Linear model, Tensor loss, MasterWeightOptimizer opt)
                {
                    opt.Backward(loss);
                    nn.utils.clip_grad_norm_(model.parameters(), 1.0);
                    opt.Step();
                }

                void AfterStep(Linear model, Tensor loss, MasterWeightOptimizer opt)
                {
                    opt.Backward(loss);
                    opt.Step();
                    nn.utils.clip_grad_norm_(model.parameters(), 1.0);
                }
            }
            """);

    [Fact]
    public Task Gradients_read_before_the_unscale_are_reported() =>
        Verify<GradientClippingOnScaledGradientsAnalyzer>.Analyzer("""
            using System.Linq;
            using PrecisionPolicy; using PrecisionPolicy.Scaling;
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            static class Trainer
            {
                static double Step(Linear model, LossScaler scaler, Tensor loss)
                {
                    var scale = scaler.Scale;
                    loss.mul(scale).backward();
                    var finite = model.parameters().All(p => torch.isfinite(p.grad!).all().item<bool>());
                    var norm = 0.0;
                    foreach (var p in model.parameters())
                    {
                        norm += {|PP0005:p.grad!.pow(2)|}.sum().item<float>();
                    }

                    foreach (var p in model.parameters())
                    {
                        p.grad!.div_(scale);
                    }

                    foreach (var p in model.parameters())
                    {
                        norm += p.grad!.pow(2).sum().item<float>();
                    }

                    return norm;
                }
            }
            """);
}
