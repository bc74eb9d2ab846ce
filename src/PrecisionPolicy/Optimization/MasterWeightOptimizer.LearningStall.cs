using System.Diagnostics;
using System.Globalization;

namespace PrecisionPolicy.Optimization;

/// <summary>
/// The run-time word for a run that stops learning without an error: frequent overflows halve the
/// dynamic scale without a floor (PyTorch's GradScaler carries on down to 2^-34 and beyond) until the
/// FP16 gradients flush to zero, and applied steps then leave the masters where they are; or, without
/// a dynamic scale (BF16, a static scale), steps are skipped often but never long enough in a row to end
/// the run, so it trains on a fraction of its batches.
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

    /// <summary>Of the last <see cref="LearningStallWindow"/> steps, skipped ones that warn when no dynamic scale can explain them.</summary>
    internal const int LearningStallSkipsInWindow = 8;

    /// <summary>The steps over which <see cref="LearningStallSkipsInWindow"/> is counted.</summary>
    internal const int LearningStallWindow = 32;

    private int zeroGradientSteps;
    private uint recentSkips; // bit i: the step i steps ago was skipped
    private int stepsWatched;
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
        recentSkips = (recentSkips << 1) | (outcome.Applied ? 0u : 1u);
        stepsWatched++;

        var (symptom, remedy) = Stall(System.Numerics.BitOperations.PopCount(recentSkips));
        if (symptom is null) return;

        warnedLearningStall = true;
        var site = lastOverflowSite is null
            ? "turn on NumericsTrace (NumericsTrace.Enable()) to find the call site that overflows, and keep it in FP32 with [HighPrecision]"
            : $"the numerics trace names the first overflowing call site: {lastOverflowSite}; keep it in FP32 with [HighPrecision]";
        RaiseWarning($"PrecisionPolicy: training has stopped learning: {symptom}. What to do: {site}; {remedy}.");
    }

    // What the steps so far show, and what to do besides finding the site; (null, null) for a healthy run.
    private (string? Symptom, string? Remedy) Stall(int skipsInWindow)
    {
        const string scaleRemedy = "set LossScalerOptions.MinScale (1, as DeepSpeed does) so the scale stops falling and overflows that persist " +
                                   "end the run (MaxConsecutiveSkips) instead of training nothing; or train in BF16 ([Autocast(Precision.BF16)]), " +
                                   "whose range needs no loss scaling";
        var scale = Scaler.Scale.ToString("G4", CultureInfo.InvariantCulture);
        var dynamic = Scaler.Options.Mode == LossScalingMode.Dynamic;
        if (dynamic && Scaler.Scale < LearningStallScaleFloor)
            return ($"the dynamic loss scale fell to {scale} (below 1) after {Scaler.State.TotalSkips} skipped steps of {Scaler.State.TotalSteps}: " +
                    "overflows keep halving it, and below 1 it shrinks the gradients, so FP16 gradients flush to zero and their masters stop changing",
                scaleRemedy);
        if (zeroGradientSteps >= LearningStallZeroGradientSteps)
            return ($"{zeroGradientSteps} applied steps in a row had gradients that are all exactly zero (loss scale {scale}), so they left every " +
                    "master unchanged (FP16 flushes gradients below 6e-8 to zero; a loss that does not depend on the parameters does it too)",
                scaleRemedy);
        if (!dynamic && stepsWatched >= LearningStallWindow && skipsInWindow >= LearningStallSkipsInWindow)
            return ($"{skipsInWindow} of the last {LearningStallWindow} steps were skipped for inf/NaN gradients ({Scaler.Options.Mode} loss scaling, " +
                    $"{Scaler.State.TotalSkips} of {Scaler.State.TotalSteps} in all), too few in a row to end the run (MaxConsecutiveSkips): " +
                    "with no dynamic scale to back off, each is an inf or NaN the model produced, and the run learns only from the other batches",
                "check the inputs and the loss for inf/NaN, and lower the learning rate if the gradients grow");
        return (null, null);
    }

    private void RaiseWarning(string message)
    {
        if (Warning is { } handler) handler(this, message);
        else System.Console.Error.WriteLine("warning: " + message);
        Trace.TraceWarning(message);
    }
}
