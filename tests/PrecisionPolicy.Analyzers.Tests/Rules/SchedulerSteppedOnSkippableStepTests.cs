using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Rules;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using PrecisionPolicy.CodeFixes;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests.Rules;

public sealed class SchedulerSteppedOnSkippableStepTests
{
    [Fact]
    public Task Unguarded_scheduler_step_is_reported() =>
        Verify<SchedulerSteppedOnSkippableStepAnalyzer>.Analyzer("""
            using PrecisionPolicy; using PrecisionPolicy.Optimization;
            using TorchSharp;
            using static TorchSharp.torch;

            class Loop
            {
                void Train(MasterWeightOptimizer opt, optim.lr_scheduler.LRScheduler scheduler, Tensor[] losses)
                {
                    foreach (var loss in losses)
                    {
                        opt.Step(loss);
                        {|PP0006:scheduler.step()|};
                    }
                }
            }
            """);

    [Fact]
    public Task Any_step_returning_an_applied_outcome_counts() =>
        Verify<SchedulerSteppedOnSkippableStepAnalyzer>.Analyzer("""
            using TorchSharp;
            using static TorchSharp.torch;

            readonly record struct Outcome(bool Applied)
            {
                public bool Skipped => !Applied;
            }

            class Model
            {
                public Outcome TrainStep(Tensor x) => new(true);
            }

            class Loop
            {
                void Train(Model model, optim.lr_scheduler.LRScheduler scheduler, Tensor[] batches)
                {
                    foreach (var x in batches)
                    {
                        model.TrainStep(x);
                        {|PP0006:scheduler.step()|};
                    }
                }

                void Guarded(Model model, optim.lr_scheduler.LRScheduler scheduler, Tensor[] batches)
                {
                    foreach (var x in batches)
                    {
                        if (model.TrainStep(x).Applied)
                        {
                            scheduler.step();
                        }
                    }
                }

                void SkippedExitsEarly(Model model, optim.lr_scheduler.LRScheduler scheduler, Tensor[] batches)
                {
                    foreach (var x in batches)
                    {
                        var outcome = model.TrainStep(x);
                        if (outcome.Skipped)
                        {
                            continue;
                        }

                        scheduler.step();
                    }
                }
            }
            """);

    [Fact]
    public Task Guarded_attached_or_epoch_level_schedulers_are_not_reported() =>
        Verify<SchedulerSteppedOnSkippableStepAnalyzer>.Analyzer("""
            using PrecisionPolicy; using PrecisionPolicy.Optimization;
            using TorchSharp;
            using static TorchSharp.torch;

            class Loop
            {
                void Guarded(MasterWeightOptimizer opt, optim.lr_scheduler.LRScheduler scheduler, Tensor[] losses)
                {
                    foreach (var loss in losses)
                    {
                        var outcome = opt.Step(loss);
                        if (outcome.Applied)
                        {
                            scheduler.step();
                        }
                    }
                }

                void EarlyContinue(MasterWeightOptimizer opt, optim.lr_scheduler.LRScheduler scheduler, Tensor[] losses)
                {
                    foreach (var loss in losses)
                    {
                        var outcome = opt.Step(loss);
                        if (!outcome.Applied)
                        {
                            continue;
                        }

                        scheduler.step();
                    }
                }

                void Attached(MasterWeightOptimizer opt, optim.lr_scheduler.LRScheduler scheduler, Tensor[] losses)
                {
                    opt.AttachScheduler(scheduler);
                    foreach (var loss in losses)
                    {
                        opt.Step(loss);
                    }
                }

                void PerEpoch(MasterWeightOptimizer opt, optim.lr_scheduler.LRScheduler scheduler, Tensor[][] epochs)
                {
                    foreach (var epoch in epochs)
                    {
                        foreach (var loss in epoch)
                        {
                            opt.Step(loss);
                        }

                        scheduler.step();
                    }
                }

                void PlainOptimizer(optim.Optimizer opt, optim.lr_scheduler.LRScheduler scheduler)
                {
                    opt.step();
                    scheduler.step();
                }
            }
            """);

    [Fact]
    public Task Fix_guards_on_the_stored_outcome() =>
        Verify<SchedulerSteppedOnSkippableStepAnalyzer>.CodeFix<GuardSchedulerStepCodeFix>("""
            using PrecisionPolicy; using PrecisionPolicy.Optimization;
            using TorchSharp;
            using static TorchSharp.torch;

            class Loop
            {
                void Train(MasterWeightOptimizer opt, optim.lr_scheduler.LRScheduler scheduler, optim.lr_scheduler.LRScheduler warmup, Tensor[] losses)
                {
                    var result = opt.Step();
                    foreach (var loss in losses)
                    {
                        result = opt.Step(loss);
                        {|PP0006:scheduler.step()|};
                        {|PP0006:warmup.step()|};
                    }
                }
            }
            """, """
            using PrecisionPolicy; using PrecisionPolicy.Optimization;
            using TorchSharp;
            using static TorchSharp.torch;

            class Loop
            {
                void Train(MasterWeightOptimizer opt, optim.lr_scheduler.LRScheduler scheduler, optim.lr_scheduler.LRScheduler warmup, Tensor[] losses)
                {
                    var result = opt.Step();
                    foreach (var loss in losses)
                    {
                        result = opt.Step(loss);
                        if (result.Applied)
                        {
                            scheduler.step();
                        }
                        if (result.Applied)
                        {
                            warmup.step();
                        }
                    }
                }
            }
            """);
}
