using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Rules;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests.Rules;

public sealed class StepInsideAccumulationLoopTests
{
    [Fact]
    public Task Step_and_clip_on_every_micro_batch_are_reported() =>
        Verify<StepInsideAccumulationLoopAnalyzer>.Analyzer("""
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            class Loops
            {
                void MicroBatches(Linear model, optim.Optimizer opt, Tensor[] xs, Tensor[] ys, int accumSteps)
                {
                    for (var micro = 0; micro < accumSteps; micro++)
                    {
                        var loss = nn.functional.mse_loss(model.call(xs[micro]), ys[micro]) / accumSteps;
                        loss.backward();
                        {|PP0015:nn.utils.clip_grad_norm_(model.parameters(), 1.0)|};
                        {|PP0015:opt.step()|};
                        {|PP0015:opt.zero_grad()|};
                    }
                }

                void ClipOutsideTheGuard(Linear model, optim.Optimizer opt, Tensor[] xs, Tensor[] ys, int accumulation)
                {
                    for (var i = 0; i < xs.Length; i++)
                    {
                        nn.functional.mse_loss(model.call(xs[i]), ys[i]).div(accumulation).backward();
                        {|PP0015:nn.utils.clip_grad_norm_(model.parameters(), 1.0)|};
                        if ((i + 1) % accumulation == 0)
                        {
                            opt.step();
                            opt.zero_grad();
                        }
                    }
                }
            }
            """);

    [Fact]
    public Task Guarded_steps_and_plain_loops_are_not_reported() =>
        Verify<StepInsideAccumulationLoopAnalyzer>.Analyzer("""
            using TorchSharp;
            using TorchSharp.Modules;
            using static TorchSharp.torch;

            class Loops
            {
                void Accumulated(Linear model, optim.Optimizer opt, Tensor[] xs, Tensor[] ys, int accumSteps)
                {
                    for (var micro = 0; micro < accumSteps; micro++)
                    {
                        (nn.functional.mse_loss(model.call(xs[micro]), ys[micro]) / accumSteps).backward();
                    }

                    nn.utils.clip_grad_norm_(model.parameters(), 1.0);
                    opt.step();
                    opt.zero_grad();
                }

                void Plain(Linear model, optim.Optimizer opt, Tensor[] xs, Tensor[] ys, long batch)
                {
                    for (var i = 0; i < xs.Length; i++)
                    {
                        var loss = nn.functional.mse_loss(model.call(xs[i]), ys[i], reduction: nn.Reduction.Sum) / batch;
                        loss.backward();
                        nn.utils.clip_grad_norm_(model.parameters(), 1.0);
                        opt.step();
                        opt.zero_grad();
                    }
                }
            }
            """);
}
