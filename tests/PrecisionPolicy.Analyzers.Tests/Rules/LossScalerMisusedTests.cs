using System.Threading.Tasks;
using PrecisionPolicy.Analyzers.Rules;
using PrecisionPolicy.Analyzers.Tests.Infrastructure;
using Xunit;

namespace PrecisionPolicy.Analyzers.Tests.Rules;

public sealed class LossScalerMisusedTests
{
    private const string Usings = """
        using System.Linq;
        using PrecisionPolicy; using PrecisionPolicy.Scaling;
        using TorchSharp;
        using TorchSharp.Modules;
        using static TorchSharp.torch;

        """;

    // A GradScaler-shaped type: Scale(loss), Unscale(optimizer), Step(optimizer) that skips on inf/NaN, Update().
    private const string GradScalerShape = """

        namespace PrecisionPolicy.Scaling
        {
            public sealed class GradScaler
            {
                public Tensor Scale(Tensor loss) => loss;
                public void Unscale(optim.Optimizer optimizer) { }
                public void Step(optim.Optimizer optimizer) { }
                public void Update() { }
            }
        }
        """;

    [Fact]
    public Task Out_of_order_scaler_use_is_reported() =>
        Verify<LossScalerMisusedAnalyzer>.Analyzer(Usings + """
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
    public Task A_second_unscale_on_the_path_after_a_branch_is_reported_and_one_per_branch_is_not() =>
        Verify<LossScalerMisusedAnalyzer>.Analyzer(Usings + """
            class Loops
            {
                void AfterTheBranch(Linear model, optim.Optimizer opt, Tensor loss, LossScaler scaler, bool clip)
                {
                    (loss * scaler.Scale).backward();
                    if (clip)
                    {
                        foreach (var p in model.parameters()) p.grad!.div_(scaler.Scale);
                        nn.utils.clip_grad_norm_(model.parameters(), 1.0);
                    }

                    foreach (var p in model.parameters()) {|PP0014:p.grad!.div_(scaler.Scale)|};
                    var overflow = model.parameters().Any(p => !torch.isfinite(p.grad!).all().item<bool>());
                    if (!overflow) opt.step();
                    scaler.Update(overflow);
                }

                void OncePerBranch(Linear model, optim.Optimizer opt, Tensor loss, LossScaler scaler, bool byDivision)
                {
                    (loss * scaler.Scale).backward();
                    if (byDivision)
                    {
                        foreach (var p in model.parameters()) p.grad!.div_(scaler.Scale);
                    }
                    else
                    {
                        foreach (var p in model.parameters()) p.grad!.mul_(1.0 / scaler.Scale);
                    }

                    var overflow = model.parameters().Any(p => !torch.isfinite(p.grad!).all().item<bool>());
                    if (!overflow) opt.step();
                    scaler.Update(overflow);
                }

                void OncePerMicroBatchStep(Linear model, optim.Optimizer opt, Tensor[] losses, LossScaler scaler)
                {
                    foreach (var loss in losses)
                    {
                        (loss * scaler.Scale).backward();
                        foreach (var p in model.parameters()) p.grad!.div_(scaler.Scale);
                        var overflow = model.parameters().Any(p => !torch.isfinite(p.grad!).all().item<bool>());
                        if (!overflow) opt.step();
                        scaler.Update(overflow);
                    }
                }
            }
            """);

    [Fact]
    public Task A_check_whose_branches_meet_again_before_the_step_is_no_guard() =>
        Verify<LossScalerMisusedAnalyzer>.Analyzer(Usings + """
            class Loops
            {
                void CheckedButNotGuarded(Linear model, optim.Optimizer opt, Tensor loss, LossScaler scaler)
                {
                    (loss * scaler.Scale).backward();
                    foreach (var p in model.parameters()) p.grad!.div_(scaler.Scale);
                    var overflow = model.parameters().Any(p => !torch.isfinite(p.grad!).all().item<bool>());
                    if (overflow) System.Console.WriteLine("overflow");
                    {|PP0014:opt.step()|};
                    scaler.Update(overflow);
                }

                void EarlyExit(Linear model, optim.Optimizer opt, Tensor loss, LossScaler scaler)
                {
                    (loss * scaler.Scale).backward();
                    foreach (var p in model.parameters()) p.grad!.div_(scaler.Scale);
                    if (HasOverflow(model))
                    {
                        scaler.Update(true);
                        return;
                    }

                    opt.step();
                    scaler.Update(false);
                }

                void StepBeforeTheCheck(Linear model, optim.Optimizer opt, Tensor loss, LossScaler scaler)
                {
                    (loss * scaler.Scale).backward();
                    foreach (var p in model.parameters()) p.grad!.div_(scaler.Scale);
                    {|PP0014:opt.step()|};
                    scaler.Update(HasOverflow(model));
                }

                private static bool HasOverflow(Linear model) =>
                    model.parameters().Any(p => !torch.isfinite(p.grad!).all().item<bool>());
            }
            """);

    [Fact]
    public Task An_update_only_before_the_backward_is_never_after_it_but_one_in_the_loop_is() =>
        Verify<LossScalerMisusedAnalyzer>.Analyzer(Usings + """
            class Loops
            {
                void UpdateFirst(Linear model, optim.Optimizer opt, Tensor loss, bool overflowBefore)
                {
                    var scaler = new LossScaler();
                    scaler.Update(overflowBefore);
                    {|PP0014:(loss * scaler.Scale).backward()|};
                    foreach (var p in model.parameters()) p.grad!.div_(scaler.Scale);
                    if (model.parameters().All(p => torch.isfinite(p.grad!).all().item<bool>())) opt.step();
                }

                void UpdateAtTheTopOfTheNextIteration(Linear model, optim.Optimizer opt, Tensor[] losses)
                {
                    var scaler = new LossScaler();
                    var overflow = false;
                    foreach (var loss in losses)
                    {
                        scaler.Update(overflow);
                        (loss * scaler.Scale).backward();
                        foreach (var p in model.parameters()) p.grad!.div_(scaler.Scale);
                        overflow = model.parameters().Any(p => !torch.isfinite(p.grad!).all().item<bool>());
                        if (!overflow) opt.step();
                    }
                }
            }
            """);

    [Fact]
    public Task The_full_sequence_and_scalers_updated_elsewhere_are_not_reported() =>
        Verify<LossScalerMisusedAnalyzer>.Analyzer(Usings + """
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

    [Fact]
    public Task A_grad_scaler_shaped_type_is_followed_by_its_member_names() =>
        Verify<LossScalerMisusedAnalyzer>.Analyzer(Usings + """
            class Loops
            {
                void UnscaleTwice(Linear model, optim.Optimizer opt, Tensor loss, GradScaler scaler)
                {
                    scaler.Scale(loss).backward();
                    scaler.Unscale(opt);
                    nn.utils.clip_grad_norm_(model.parameters(), 1.0);
                    {|PP0014:scaler.Unscale(opt)|};
                    scaler.Step(opt);
                    scaler.Update();
                }

                void NeverUpdated(optim.Optimizer opt, Tensor loss)
                {
                    var scaler = new GradScaler();
                    var scaled = scaler.Scale(loss);
                    {|PP0014:scaled.backward()|};
                    scaler.Step(opt);
                }

                void StepsTheOptimizerItself(optim.Optimizer opt, Tensor loss, GradScaler scaler)
                {
                    scaler.Scale(loss).backward();
                    scaler.Unscale(opt);
                    {|PP0014:opt.step()|};
                    scaler.Update();
                }

                void TheSequence(Linear model, optim.Optimizer opt, Tensor[] losses, GradScaler scaler)
                {
                    foreach (var loss in losses)
                    {
                        scaler.Scale(loss).backward();
                        scaler.Unscale(opt);
                        nn.utils.clip_grad_norm_(model.parameters(), 1.0);
                        scaler.Step(opt);
                        scaler.Update();
                    }
                }
            }
            """ + GradScalerShape);

    [Fact]
    public Task Look_alike_scales_and_steps_without_a_scaled_backward_are_not_reported() =>
        Verify<LossScalerMisusedAnalyzer>.Analyzer(Usings + """
            class Loops
            {
                // An unscaled backward: no scaler sequence, whatever else the method does with the scaler.
                void Unscaled(Linear model, optim.Optimizer opt, Tensor loss, LossScaler scaler)
                {
                    System.Console.WriteLine(scaler.Scale);
                    loss.backward();
                    opt.step();
                }

                // A loss weight that is not a scale, divided out twice on purpose.
                void Weighted(Linear model, optim.Optimizer opt, Tensor loss, double weight)
                {
                    (loss * weight).backward();
                    foreach (var p in model.parameters()) p.grad!.div_(weight);
                    foreach (var p in model.parameters()) p.grad!.div_(weight);
                    opt.step();
                }
            }
            """);
}
