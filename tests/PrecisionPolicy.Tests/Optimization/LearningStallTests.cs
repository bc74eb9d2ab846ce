using System;
using System.Collections.Generic;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Scaling;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Optimization;

/// <summary>
/// Training that stops learning without an error (the FP16 dynamic scale halved below 1, applied steps whose
/// gradients all flushed to zero, or BF16 steps skipped often but never long enough in a row to end the run)
/// raises <see cref="MasterWeightOptimizer.Warning"/> once, saying what to do; a healthy run raises nothing.
/// </summary>
[Collection(PrecisionPolicy.Tests.Casting.GemmModeCollection.Name)]
public sealed class LearningStallTests
{
    private static readonly (Tensor X, Tensor Y) Data = Fixtures.Regression(32, 16, 4, seed: 31);

    private static Tensor Loss(nn.Module<Tensor, Tensor> model) => nn.functional.mse_loss(model.call(Data.X), Data.Y);

    /// <summary>Steps <paramref name="steps"/> times; returns each warning with the step it came at.</summary>
    private static List<(int Step, string Message)> Train(MasterWeightOptimizer opt, nn.Module<Tensor, Tensor> model, int steps, Func<int, bool> overflowAt)
    {
        var warnings = new List<(int, string)>();
        var step = 0;
        opt.Warning += (_, message) => warnings.Add((step, message));
        for (step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            var loss = Loss(model);
            opt.Step(overflowAt(step) ? loss.mul(float.PositiveInfinity) : loss);
        }
        return warnings;
    }

    [Fact]
    public void Overflows_that_halve_the_dynamic_scale_below_1_warn_once_at_that_step_with_what_to_do()
    {
        using var model = Fixtures.Mlp(ScalarType.Float16, seed: 11);
        var scaling = LossScalerOptions.Dynamic with { InitialScale = 8, MaxConsecutiveSkips = null };
        using var opt = new MasterWeightOptimizer(model, ps => optim.SGD(ps, 0.05), new MasterWeightOptions { Scaling = scaling });
        var scales = new List<double>();
        opt.Warning += (_, _) => scales.Add(opt.Scaler.Scale);

        // Every other step overflows: 8 -> 4 -> 2 -> 1 -> 0.5 at the 4th overflow (step 6), then on down to 2^-6.
        var warnings = Train(opt, model, steps: 20, overflowAt: s => s % 2 == 0);

        var (step, message) = Assert.Single(warnings);
        Assert.Equal(6, step);
        Assert.Equal(new[] { 0.5 }, scales);
        Assert.Equal(Math.Pow(2, -7), opt.Scaler.Scale);
        Assert.Contains("training has stopped learning: the dynamic loss scale fell to 0.5 (below 1) after 4 skipped steps of 7", message);
        Assert.Contains("LossScalerOptions.MinScale", message);
        Assert.Contains("[Autocast(Precision.BF16)]", message);
        Assert.Contains("[HighPrecision]", message);
        Assert.Contains("NumericsTrace.Enable()", message); // the trace is off: it says how to find the site
    }

    [Fact]
    public void A_stretch_of_applied_steps_with_all_zero_fp16_gradients_warns_once()
    {
        using var model = Fixtures.Mlp(ScalarType.Float16, seed: 12);
        // A static scale of 2^-40 flushes every FP16 gradient to zero: steps apply and change nothing.
        var scaling = LossScalerOptions.Static(Math.Pow(2, -40));
        using var opt = new MasterWeightOptimizer(model, ps => optim.SGD(ps, 0.05), new MasterWeightOptions { Scaling = scaling });
        var masters = OptimizerSnapshot.Bytes(opt.MasterOf("fc1.weight"));

        var warnings = Train(opt, model, steps: 2 * MasterWeightOptimizer.LearningStallZeroGradientSteps + 5, overflowAt: _ => false);

        var (step, message) = Assert.Single(warnings);
        Assert.Equal(MasterWeightOptimizer.LearningStallZeroGradientSteps - 1, step);
        Assert.Contains($"{MasterWeightOptimizer.LearningStallZeroGradientSteps} applied steps in a row had gradients that are all exactly zero (loss scale 9.095E-13)", message);
        Assert.Contains("LossScalerOptions.MinScale", message);
        Assert.Equal(masters, OptimizerSnapshot.Bytes(opt.MasterOf("fc1.weight"))); // they did change nothing
    }

    [Fact]
    public void A_healthy_fp16_run_with_isolated_overflows_and_a_bf16_run_raise_no_warning()
    {
        using (var model = Fixtures.Mlp(ScalarType.Float16, seed: 13))
        using (var opt = new MasterWeightOptimizer(model, ps => optim.AdamW(ps, 1e-3), new MasterWeightOptions { Scaling = LossScalerOptions.Dynamic }))
        {
            // Three isolated overflows take 2^16 to 2^13: far from the floor.
            var warnings = Train(opt, model, steps: 60, overflowAt: s => s is 5 or 20 or 40);
            Assert.Empty(warnings);
            Assert.Equal(3, opt.Scaler.State.TotalSkips);
            Assert.Equal(Math.Pow(2, 13), opt.Scaler.Scale);
        }

        using (var model = Fixtures.Mlp(ScalarType.BFloat16, seed: 13))
        using (var opt = new MasterWeightOptimizer(model, ps => optim.AdamW(ps, 1e-3)))
            Assert.Empty(Train(opt, model, steps: 40, overflowAt: _ => false));
    }

    [Fact]
    public void Bf16_steps_skipped_often_but_never_long_in_a_row_warn_once_when_the_window_fills()
    {
        using var model = Fixtures.Mlp(ScalarType.BFloat16, seed: 14);
        using var opt = new MasterWeightOptimizer(model, ps => optim.AdamW(ps, 1e-3));

        // Every 4th step overflows: 8 of the first 32, never two in a row, so MaxConsecutiveSkips never ends the run.
        var warnings = Train(opt, model, steps: 100, overflowAt: s => s % 4 == 0);

        var (step, message) = Assert.Single(warnings);
        Assert.Equal(MasterWeightOptimizer.LearningStallWindow - 1, step);
        Assert.Contains($"{MasterWeightOptimizer.LearningStallSkipsInWindow} of the last {MasterWeightOptimizer.LearningStallWindow} steps were skipped for inf/NaN gradients (Off loss scaling, 8 of 32 in all)", message);
        Assert.Contains("check the inputs and the loss for inf/NaN", message);
        Assert.DoesNotContain("MinScale", message); // a remedy for a dynamic scale, which BF16 has not
        Assert.Equal(25, opt.Scaler.State.TotalSkips);
    }

    [Fact]
    public void Bf16_steps_skipped_less_often_than_the_threshold_raise_no_warning()
    {
        using var model = Fixtures.Mlp(ScalarType.BFloat16, seed: 15);
        using var opt = new MasterWeightOptimizer(model, ps => optim.AdamW(ps, 1e-3));

        // Every 5th step: at most 7 of any 32 in a row.
        Assert.Empty(Train(opt, model, steps: 100, overflowAt: s => s % 5 == 0));
        Assert.Equal(20, opt.Scaler.State.TotalSkips);
    }
}
