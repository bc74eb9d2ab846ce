using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests;

/// <summary>
/// Whole programs run through every analyzer at once: written the right way no rule may fire;
/// with one mistake per rule each is reported exactly once.
/// </summary>
public sealed class CorrectCodeTests
{
    [Fact]
    public Task One_mistake_per_rule_is_reported_once() =>
        AllAnalyzersTest.Run("""
            using System.Collections.Generic;
            using System.Linq;
            using PrecisionPolicy; using PrecisionPolicy.Optimization; using PrecisionPolicy.Scaling;
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            [Autocast(Precision.FP16)]
            [LossScaling({|PP0004:LossScalingMode.Off|})]
            [{|PP0013:Fp8Recipe(ForwardFormat = Fp8Format.E5M2, BackwardFormat = Fp8Format.E4M3)|}]
            public sealed class {|PP0010:Net|} : nn.Module<Tensor, Tensor>
            {
                [{|PP0012:HighPrecision|}] private int steps;

                public Net() : base(nameof(Net)) { }

                public override Tensor forward(Tensor x) => nn.functional.softmax(x, -1, dtype: {|PP0008:ScalarType.Float16|});
            }

            [{|PP0011:Autocast(Precision.BF16)|}]
            public partial class Trainer
            {
                public void Run(MasterWeightOptimizer opt, optim.lr_scheduler.LRScheduler scheduler, Tensor[] losses, BatchNorm1d bn)
                {
                    {|PP0007:bn.half()|};
                    var model = nn.Linear(4, 4).bfloat16();
                    var sgd = {|PP0003:optim.SGD(model.parameters(), 0.1)|};
                    var exp_avg = torch.zeros(4, dtype: {|PP0001:ScalarType.Float16|});
                    var acc = torch.zeros(4, dtype: {|PP0002:ScalarType.BFloat16|});
                    foreach (var loss in losses)
                    {
                        (loss * 65536.0).backward(); // scaled by hand: PP0005 (after opt.Backward the .grad are unscaled)
                        {|PP0005:nn.utils.clip_grad_norm_(model.parameters(), 1.0)|};
                        foreach (var p in model.parameters())
                        {
                            acc.add_(p.grad);
                        }

                        opt.Step();
                        {|PP0006:scheduler.step()|};
                    }
                }

                public Tensor Denominator(Tensor p)
                {
                    var v = torch.zeros_like(p, dtype: ScalarType.Float16);
                    return v.sqrt().add_({|PP0009:1e-8|});
                }
            }

            public class HandDriven
            {
                public void NeverUpdated(Linear model, optim.Optimizer opt, Tensor loss)
                {
                    var scaler = new LossScaler();
                    {|PP0014:(loss * scaler.Scale).backward()|};
                    foreach (var p in model.parameters()) p.grad!.div_(scaler.Scale);
                    if (model.parameters().All(p => torch.isfinite(p.grad!).all().item<bool>())) opt.step();
                }

                public void Accumulate(Linear model, optim.Optimizer opt, Tensor[] xs, Tensor[] ys, int accumSteps)
                {
                    for (var micro = 0; micro < accumSteps; micro++)
                    {
                        (nn.functional.mse_loss(model.call(xs[micro]), ys[micro]) / accumSteps).backward();
                        {|PP0015:opt.step()|};
                    }
                }

                public void HandWritten(Linear half, double lr)
                {
                    half.half();
                    foreach (var p in half.parameters()) {|PP0016:p.sub_(p.grad! * lr)|};
                }

                public void Momentum(Linear m16)
                {
                    m16.half();
                    var ps = m16.parameters().ToList();
                    var bufs = ps.Select(p => {|PP0017:torch.zeros_like(p)|}).ToList();
                    for (var i = 0; i < ps.Count; i++) bufs[i].mul_(0.9).add_(ps[i].grad!);
                }

                public double Epoch(Tensor[] losses)
                {
                    var running = torch.zeros(1, dtype: ScalarType.Float16);
                    foreach (var loss in losses) {|PP0018:running += loss.detach()|};
                    return running.item<float>();
                }

                public Tensor Loss(Tensor x, Tensor y)
                {
                    var model16 = nn.Linear(4, 4).half();
                    return {|PP0019:nn.functional.mse_loss(model16.call(x.half()), y)|};
                }
            }
            """);

    [Fact]
    public Task Annotated_modules_and_master_weight_loop_are_clean() =>
        AllAnalyzersTest.Run("""
            using PrecisionPolicy; using PrecisionPolicy.Optimization;
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            [Autocast(Precision.BF16)]
            public sealed partial class Block : nn.Module<Tensor, Tensor>
            {
                private readonly LayerNorm norm;
                private readonly Linear fc1, fc2;
                [HighPrecision] private readonly Linear router;

                public Block(int d) : base(nameof(Block))
                {
                    norm = nn.LayerNorm(d);
                    fc1 = nn.Linear(d, d);
                    fc2 = nn.Linear(d, d);
                    router = nn.Linear(d, d);
                    RegisterComponents();
                }

                public override Tensor forward(Tensor x)
                {
                    var h = fc1.call(norm.call(x));
                    var p = nn.functional.softmax(router.call(x), -1);
                    return x + fc2.call(nn.functional.gelu(h)) * p;
                }
            }

            [Autocast(Precision.FP16)]
            [LossScaling(LossScalingMode.Dynamic, InitialScale = 65536)]
            public sealed partial class Attention : nn.Module<Tensor, Tensor, Tensor>
            {
                public Attention() : base(nameof(Attention)) { }

                public override Tensor forward(Tensor q, Tensor k)
                {
                    var scores = torch.matmul(q, k.transpose(-2, -1));
                    return nn.functional.softmax(scores, -1).half();
                }
            }

            [Autocast(Precision.FP8)]
            [Fp8Recipe(ForwardFormat = Fp8Format.E4M3, BackwardFormat = Fp8Format.E5M2)]
            public sealed partial class Fp8Mlp : nn.Module<Tensor, Tensor>
            {
                private readonly Linear fc = nn.Linear(8, 8);

                public Fp8Mlp() : base(nameof(Fp8Mlp)) => RegisterComponents();

                public override Tensor forward(Tensor x) => fc.call(x);
            }

            public static class Training
            {
                public static void Run(Block model, MasterWeightOptimizer opt, optim.lr_scheduler.LRScheduler scheduler, Tensor[] xs, Tensor[] ys)
                {
                    opt.AttachScheduler(scheduler);
                    for (var i = 0; i < xs.Length; i++)
                    {
                        using var scope = torch.NewDisposeScope();
                        var loss = nn.functional.mse_loss(model.call(xs[i]), ys[i]);
                        var outcome = opt.Step(loss);
                    }
                }

                public static void Guarded(MasterWeightOptimizer opt, optim.lr_scheduler.LRScheduler scheduler, Tensor[] losses)
                {
                    foreach (var loss in losses)
                    {
                        opt.Backward(loss);
                        var outcome = opt.Step();
                        if (!outcome.Applied)
                        {
                            continue;
                        }

                        scheduler.step();
                    }
                }
            }
            """);

    [Fact]
    public Task Hand_written_mixed_precision_loop_is_clean() =>
        AllAnalyzersTest.Run("""
            using PrecisionPolicy; using PrecisionPolicy.Scaling;
            using TorchSharp;
            using static TorchSharp.torch;

            public static class ManualAmp
            {
                public static void Train(Tensor[] xs, long[][] ys)
                {
                    var master = nn.Linear(4, 4);
                    var working = nn.Linear(4, 4).half();
                    var opt = optim.AdamW(master.parameters(), lr: 1e-3, eps: 1e-8);
                    var scaler = new LossScaler();
                    var exp_avg = torch.zeros(4, dtype: ScalarType.Float32);
                    var acc = torch.zeros(4, dtype: ScalarType.Float32);
                    var bn = nn.BatchNorm1d(4);
                    for (var i = 0; i < xs.Length; i++)
                    {
                        var logits = working.call(xs[i].half()).@float();
                        var loss = nn.functional.cross_entropy(bn.call(logits), torch.tensor(ys[i]));
                        (loss * scaler.Scale).backward();
                        foreach (var p in working.parameters())
                        {
                            p.grad?.div_(scaler.Scale);
                            acc.add_(p.grad!.@float());
                        }

                        var norm = nn.utils.clip_grad_norm_(working.parameters(), 1.0);
                        var probabilities = nn.functional.softmax(logits, -1);
                        exp_avg.mul_(0.9).add_(probabilities.mean(new long[] { 0 }), alpha: 0.1);
                        scaler.Update(!double.IsFinite(norm));
                        opt.step();
                    }
                }
            }
            """);
}
