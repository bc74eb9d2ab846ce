using System.Collections.Generic;
using PrecisionPolicy.Tracing;

namespace PrecisionPolicy.Samples.Addition.Training;

/// <summary>What one training run measured; serialised as is into results.json.</summary>
public sealed record RunResult
{
    public required string Name { get; init; }
    public required string Precision { get; init; }
    public required string LossScaling { get; init; }
    /// <summary>Training loss of every step run (fewer than asked when the run diverged or was interrupted).</summary>
    public required IReadOnlyList<double> Losses { get; init; }
    /// <summary>Loss scale after every step; null for a run without loss scaling.</summary>
    public required IReadOnlyList<double>? Scales { get; init; }
    /// <summary>Mean training loss over the last tenth of the steps (one batch is too noisy to compare).</summary>
    public required double FinalLoss { get; init; }
    /// <summary>Cross-entropy on the held-out problems.</summary>
    public required double HeldOutLoss { get; init; }
    /// <summary>Share of held-out problems whose greedily decoded sum is exactly right.</summary>
    public required double ExactMatch { get; init; }
    public required double MedianStepMilliseconds { get; init; }
    /// <summary>Peak bytes of tensors (and other C-heap allocations) during the run: see <see cref="TensorMemory"/>.</summary>
    public required long PeakTensorBytes { get; init; }
    public required IReadOnlyDictionary<string, long> BytesByRole { get; init; }
    public required int SkippedSteps { get; init; }
    /// <summary>Loss scale at the end; null for a run without loss scaling.</summary>
    public required double? FinalScale { get; init; }
    /// <summary>Mean share of exactly-zero gradient elements: FP16 underflow shows here.</summary>
    public required double GradientZeroFraction { get; init; }
    public required bool Diverged { get; init; }
    /// <summary>Share of parameter elements with a nonzero gradient that an applied step left unchanged (see <see cref="LostUpdates"/>).</summary>
    public required double LostUpdateFraction { get; init; }
    /// <summary>The same share step by step, one value per step run (NaN for a skipped step); null when the run does not count lost updates.</summary>
    public required IReadOnlyList<double>? LostUpdateFractionPerStep { get; init; }
    /// <summary>For a `--failure-modes` run: the failure it shows or recovers from; otherwise null.</summary>
    public string? FailureMode { get; init; }
    /// <summary>Stopped early by Ctrl+C: fewer steps than asked.</summary>
    public required bool Interrupted { get; init; }
    public required string GemmMode { get; init; }
    /// <summary>With --trace-numerics (or for a traced run): every intercepted call site's statistics over the run; otherwise null.</summary>
    public IReadOnlyList<SiteNumerics>? Numerics { get; init; }
    /// <summary>With --trace-numerics (or for a traced run): the per-site statistics of each report window, for the plot over steps.</summary>
    public IReadOnlyList<NumericsReport>? NumericsReports { get; init; }
    /// <summary>With --trace-numerics (or for a traced run): where the first skipped step's inf/NaN came from (file(line,col) op, direction, step).</summary>
    public string? FirstFailingSite { get; init; }
}
