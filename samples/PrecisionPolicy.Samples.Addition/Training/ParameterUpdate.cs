using System;
using static TorchSharp.torch;

namespace PrecisionPolicy.Samples.Addition.Training;

/// <summary>A run's optimizer behind one interface: a backward and step from a loss, and what the run reports of it.</summary>
public abstract class ParameterUpdate : IDisposable
{
    /// <summary>The lost-update count of the run's applied steps.</summary>
    protected LostUpdates Lost { get; } = new();

    /// <summary>Backward of <paramref name="loss"/> and a step (or a skipped one).</summary>
    /// <exception cref="LossScaleException">Too many skipped steps in a row.</exception>
    public abstract StepOutcome Step(Tensor loss);

    /// <summary>Steps skipped for inf/NaN gradients.</summary>
    public abstract int SkippedSteps { get; }

    /// <summary>The loss scale at the end; null without loss scaling.</summary>
    public abstract double? FinalScale { get; }

    /// <summary>Bytes by role, as a MasterWeightOptimizer reports them.</summary>
    public abstract MasterWeightMemory Memory();

    /// <summary>See <see cref="LostUpdates.Fraction"/>.</summary>
    public double LostUpdateFraction => Lost.Fraction;

    public virtual void Dispose()
    {
        Lost.Dispose();
        GC.SuppressFinalize(this);
    }
}
