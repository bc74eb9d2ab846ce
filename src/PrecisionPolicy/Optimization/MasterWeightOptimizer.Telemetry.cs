using PrecisionPolicy.Scaling;
using PrecisionPolicy.Telemetry;

namespace PrecisionPolicy.Optimization;

/// <summary>Each step's outcome and scale change, published through <see cref="PrecisionPolicyTelemetry"/>'s meter and the optional logger.</summary>
public sealed partial class MasterWeightOptimizer
{
    private ScalingTelemetry? telemetry;

    private ScalingTelemetry Telemetry => telemetry ??= new ScalingTelemetry(nameof(MasterWeightOptimizer), Options.Logger, Options.MeterFactory);

    /// <summary>Publishes the step, then moves the scale and publishes the change, also when the scaler gives up on the run.</summary>
    private void UpdateScale(StepOutcome outcome)
    {
        if (outcome.Applied) Telemetry.StepApplied(outcome.GradNorm, outcome.Gradients);
        else Telemetry.StepSkipped(outcome.Scale, outcome.FirstNonFiniteParameter);
        try
        {
            Scaler.Update(foundNonFinite: !outcome.Applied, outcome.FirstNonFiniteParameter);
        }
        catch (LossScaleException e)
        {
            Telemetry.ScalingStopped(e);
            throw;
        }
        finally
        {
            if (Scaler.Enabled) Telemetry.ScaleUpdated(outcome.Scale, Scaler.Scale);
        }
    }
}
