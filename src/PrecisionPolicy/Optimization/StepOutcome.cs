using PrecisionPolicy.Tracing;

namespace PrecisionPolicy.Optimization;

/// <summary>What one <see cref="MasterWeightOptimizer.Step()"/> did.</summary>
/// <param name="Applied">True when the inner optimizer stepped; false when the step was skipped (inf/NaN gradients).</param>
/// <param name="Scale">The loss scale the step's gradients were scaled by.</param>
/// <param name="GradNorm">L2 norm of the unscaled FP32 gradients before clipping (NaN or ∞ on a skipped step).</param>
/// <param name="FirstNonFiniteParameter">Name of the first parameter with an inf/NaN gradient, or null.</param>
/// <param name="MicroBatches">Backward passes accumulated into this step.</param>
public sealed record StepOutcome(bool Applied, double Scale, double GradNorm, string? FirstNonFiniteParameter, int MicroBatches)
{
    /// <summary>
    /// Statistics of the unscaled FP32 gradients of an applied step, when
    /// <see cref="MasterWeightOptions.TrackGradientStatistics"/> is on; otherwise null.
    /// </summary>
    public GradientStatistics? Gradients { get; init; }

    /// <summary>
    /// On a skipped step with <see cref="NumericsTrace"/> on: the first intercepted call site whose output or
    /// gradient went non-finite, e.g. <c>Model/Block.cs(29,20) torch.softmax (forward, step 1234, input amax 7.1e4 &gt; FP16 max 65504)</c>;
    /// otherwise null.
    /// </summary>
    public string? FirstFailingSite { get; init; }

    /// <summary>
    /// The float32 value of the loss given to <see cref="MasterWeightOptimizer.Step(TorchSharp.torch.Tensor)"/> (or a
    /// generated <c>TrainStep</c>): with accumulation, the last micro-batch's. Null for <see cref="MasterWeightOptimizer.Step()"/>.
    /// </summary>
    public double? Loss { get; init; }
}

/// <summary>What the gradients of one step looked like: where underflow shows.</summary>
/// <param name="ZeroFraction">Fraction of gradient elements that are exactly zero (FP16 underflow flushes to zero).</param>
/// <param name="MaxAbs">Largest absolute gradient.</param>
public sealed record GradientStatistics(double ZeroFraction, double MaxAbs);
