namespace PrecisionPolicy;

/// <summary>
/// How the amax a delayed scale is computed from is taken from the amax history
/// (TransformerEngine <c>DelayedScaling.amax_compute_algo</c>).
/// </summary>
public enum Fp8AmaxCompute
{
    /// <summary>The maximum over the whole history ("max", TransformerEngine's default).</summary>
    Max,
    /// <summary>The amax of the step that just ended ("most_recent").</summary>
    MostRecent,
}
