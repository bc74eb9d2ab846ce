using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Rules;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests.Rules;

public sealed class LossScalerMisusedTests
{
    [Fact]
    public Task Out_of_order_scaler_use_is_reported() =>
        Verify<LossScalerMisusedAnalyzer>.Analyzer("""
            using System.Linq;
            using PrecisionPolicy;
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            class Loops
            {
                void UnscaleTwice(Linear model, optim.Optimizer opt, Tensor loss)
                {
                    var scaler = new LossScaler();
                    (loss * scaler.Scale).backward();
                    foreach (var p in model.parameters()) p.grad!.div_(scaler.Scale);
                    var finite = model.parameters().All(p => torch.isfinite(p.grad!).all().item<bool>());
                    foreach (var p in model.parameters()) {|PP0014:p.grad!.mul_(1.0 / scaler.Scale)|};
                    if (finite) opt.step();
                    scaler.Update(!finite);
                }

                void NeverUpdated(Linear model, optim.Optimizer opt, Tensor loss)
                {
                    var scaler = new LossScaler();
                    {|PP0014:loss.mul(scaler.Scale).backward()|};
                    foreach (var p in model.parameters()) p.grad!.div_(scaler.Scale);
                    if (model.parameters().All(p => torch.isfinite(p.grad!).all().item<bool>())) opt.step();
                }

                void NoCheck(Linear model, optim.Optimizer opt, Tensor loss, LossScaler scaler)
                {
                    (loss * scaler.Scale).backward();
                    foreach (var p in model.parameters()) p.grad!.div_(scaler.Scale);
                    {|PP0014:opt.step()|};
                    scaler.Update(false);
                }
            }
            """);

    [Fact]
    public Task The_full_sequence_and_scalers_updated_elsewhere_are_not_reported() =>
        Verify<LossScalerMisusedAnalyzer>.Analyzer("""
            using System.Linq;
            using PrecisionPolicy;
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            class Loops
            {
                private readonly LossScaler scaler = new();

                void Step(Linear model, optim.Optimizer opt, Tensor[] losses)
                {
                    foreach (var loss in losses)
                    {
                        (loss * scaler.Scale).backward();
                        foreach (var p in model.parameters()) p.grad!.div_(scaler.Scale);
                        var overflow = HasOverflow(model);
                        if (!overflow) opt.step();
                        scaler.Update(overflow);
                    }
                }

                void Backward(Tensor loss) => (loss * scaler.Scale).backward();

                void Finish(bool overflow) => scaler.Update(overflow);

                private static bool HasOverflow(Linear model) =>
                    model.parameters().Any(p => !torch.isfinite(p.grad!).all().item<bool>());
            }
            """);
}
