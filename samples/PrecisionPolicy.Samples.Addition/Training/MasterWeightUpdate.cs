using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Samples.Addition.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PrecisionPolicy.Samples.Addition.Training;

/// <summary>The recipe: FP32 master weights (MasterWeightOptimizer) under AdamW or SGD, with the run's loss scaling.</summary>
public sealed class MasterWeightUpdate : ParameterUpdate
{
    private readonly MasterWeightOptimizer optimizer;

    public MasterWeightUpdate(TinyGpt model, RunKind kind, TrainingOptions options)
        : base(kind.CountsLostUpdates)
    {
        // AdamW's eps and the clipping norm follow the loss weight: see RunKind.LossWeight.
        Func<IEnumerable<Parameter>, OptimizerHelper> factory = kind.Update == UpdateRule.MastersSgd
            ? ps => optim.SGD(ps, options.SgdLearningRate)
            : ps => optim.AdamW(ps, options.LearningRate, eps: 1e-8 * kind.LossWeight, weight_decay: 0.01);
        // Created over the model, the optimizer takes on the FP8 modules' scaling state (steps, checkpoints) itself.
        optimizer = new MasterWeightOptimizer(model, factory,
            new MasterWeightOptions
            {
                Scaling = kind.Scaling,
                MaxGradNorm = kind.Update == UpdateRule.MastersSgd ? null : 1.0 * kind.LossWeight,
                TrackGradientStatistics = true,
            });
    }

    public override StepOutcome Step(Tensor loss)
    {
        optimizer.Backward(loss);
        if (Lost is null) return optimizer.Step();
        var snapshot = LostUpdates.Before(optimizer.ParameterNames.Select(n => (optimizer.MasterOf(n), optimizer.GradientOf(n))));
        var outcome = optimizer.Step();
        Lost.After(snapshot, outcome.Applied);
        return outcome;
    }

    public override int SkippedSteps => (int)optimizer.Scaler.State.TotalSkips;

    public override double? FinalScale => optimizer.Scaler.Enabled ? optimizer.Scaler.Scale : null;

    public override MasterWeightMemory Memory() => optimizer.Memory();

    public override void Dispose()
    {
        optimizer.Dispose();
        base.Dispose();
    }
}
