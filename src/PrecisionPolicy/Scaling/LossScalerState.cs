namespace PrecisionPolicy.Scaling;

/// <summary>
/// Everything a <see cref="LossScaler"/> needs to continue exactly where it stopped: saved in
/// checkpoints and restored with <see cref="LossScaler.Restore"/>.
/// </summary>
/// <param name="Scale">The current scale.</param>
/// <param name="GrowthTracker">Consecutive finite steps since the last growth or overflow.</param>
/// <param name="HysteresisLeft">Overflows still tolerated before the next backoff.</param>
/// <param name="ConsecutiveSkips">Skipped steps in a row.</param>
/// <param name="TotalSkips">Skipped steps since the start.</param>
/// <param name="TotalSteps">Steps (applied or skipped) since the start.</param>
/// <param name="FirstNonFiniteOfRun">The first non-finite tensor of the current run of skipped steps, or null.</param>
public sealed record LossScalerState(
    double Scale,
    int GrowthTracker,
    int HysteresisLeft,
    int ConsecutiveSkips,
    long TotalSkips,
    long TotalSteps,
    string? FirstNonFiniteOfRun = null);
