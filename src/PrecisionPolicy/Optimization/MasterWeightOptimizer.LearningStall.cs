using System.Diagnostics;
using System.Globalization;

namespace PrecisionPolicy.Optimization;

/// <summary>
/// The run-time word for a run that stops learning without an error: frequent overflows halve the
/// dynamic scale without a floor (PyTorch's GradScaler carries on down to 2^-34 and beyond) until the
/// FP16 gradients flush to zero, and applied steps then leave the masters where they are.
/// </summary>
public sealed partial class MasterWeightOptimizer
{
    /// <summary>
    /// Below this the dynamic scale shrinks the gradients instead of lifting them out of FP16's underflow;
    /// DeepSpeed's min_loss_scale default is 1 for that reason.
    /// </summary>
    internal const double LearningStallScaleFloor = 1.0;

    /// <summary>Applied steps in a row whose gradients are all exactly zero before the warning: a stretch no healthy run has.</summary>
    internal const int LearningStallZeroGradientSteps = 32;

    private int zeroGradientSteps;
    private string? lastOverflowSite;
    private bool warnedLearningStall;

    /// <summary>
    /// Called after each step's scale update. The zero-gradient test reads the norm the step computed
    /// anyway (no extra pass, no extra host sync); skipped steps neither extend nor break a stretch.
    /// </summary>
    private void WatchLearning(StepOutcome outcome)
    {
        if (warnedLearningStall) return;
        if (!outcome.Applied)
            lastOverflowSite = outcome.FirstFailingSite ?? lastOverflowSite;
        else
            zeroGradientSteps = outcome.GradNorm == 0 ? zeroGradientSteps + 1 : 0;

        string? symptom = null;
        var scale = Scaler.Scale.ToString("G4", CultureInfo.InvariantCulture);
        if (Scaler.Options.Mode == LossScalingMode.Dynamic && Scaler.Scale < LearningStallScaleFloor)
            symptom =
                $"the dynamic loss scale fell to {scale} (below 1) after {Scaler.State.TotalSkips} skipped steps of {Scaler.State.TotalSteps}: " +
                "overflows keep halving it, and below 1 it shrinks the gradients, so FP16 gradients flush to zero and their masters stop changing";
        else if (zeroGradientSteps >= LearningStallZeroGradientSteps)
            symptom =
                $"{zeroGradientSteps} applied steps in a row had gradients that are all exactly zero (loss scale {scale}), so they left every " +
                "master unchanged (FP16 flushes gradients below 6e-8 to zero; a loss that does not depend on the parameters does it too)";
        if (symptom is null) return;

        warnedLearningStall = true;
        var site = lastOverflowSite is null
            ? "turn on NumericsTrace (NumericsTrace.Enable()) to find the call site that overflows, and keep it in FP32 with [HighPrecision]"
            : $"the numerics trace names the first overflowing call site: {lastOverflowSite}; keep it in FP32 with [HighPrecision]";
        RaiseWarning(
            $"PrecisionPolicy: training has stopped learning: {symptom}. What to do: {site}; set LossScalerOptions.MinScale (1, as " +
            "DeepSpeed does) so the scale stops falling and overflows that persist end the run (MaxConsecutiveSkips) instead of " +
            "training nothing; or train in BF16 ([Autocast(Precision.BF16)]), whose range needs no loss scaling.");
    }

    private void RaiseWarning(string message)
    {
        if (Warning is { } handler) handler(this, message);
        else System.Console.Error.WriteLine("warning: " + message);
        Trace.TraceWarning(message);
    }
}
