using System.Collections.Generic;
using System;
using PrecisionPolicy.Optimization;
using static TorchSharp.torch;

namespace PrecisionPolicy.Samples.Addition.Training;

/// <summary>A run's optimizer behind one interface: a backward and step from a loss, and what the run reports of it.</summary>
public abstract class ParameterUpdate : IDisposable
{
    /// <param name="countLostUpdates">
    /// Whether steps count their lost updates. The count clones every stored value each step, so only the
    /// runs that report it pay for it: the others' step times and peak memory are the recipe's own.
    /// </param>
    protected ParameterUpdate(bool countLostUpdates) => Lost = countLostUpdates ? new LostUpdates() : null;

    /// <summary>The lost-update count of the run's applied steps; null when the run does not count them.</summary>
    protected LostUpdates? Lost { get; }

    /// <summary>Backward of <paramref name="loss"/> and a step (or a skipped one).</summary>
    /// <exception cref="LossScaleException">Too many skipped steps in a row.</exception>
    public abstract StepOutcome Step(Tensor loss);

    /// <summary>Steps skipped for inf/NaN gradients.</summary>
    public abstract int SkippedSteps { get; }

    /// <summary>The loss scale at the end; null without loss scaling.</summary>
    public abstract double? FinalScale { get; }

    /// <summary>Bytes by role, as a MasterWeightOptimizer reports them.</summary>
    public abstract MasterWeightMemory Memory();

    /// <summary>See <see cref="LostUpdates.Fraction"/>; NaN when the run does not count them.</summary>
    public double LostUpdateFraction => Lost?.Fraction ?? double.NaN;

    /// <summary>See <see cref="LostUpdates.PerStep"/>; null when the run does not count them.</summary>
    public IReadOnlyList<double>? LostUpdateFractionPerStep => Lost?.PerStep;

    public virtual void Dispose()
    {
        Lost?.Dispose();
        GC.SuppressFinalize(this);
    }
}
