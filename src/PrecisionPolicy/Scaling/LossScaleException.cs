using System;

namespace PrecisionPolicy.Scaling;

/// <summary>
/// Thrown when the gradients were inf/NaN on <see cref="LossScalerOptions.MaxConsecutiveSkips"/>
/// steps in a row (or the scale cannot back off further): the run has diverged (or its loss is
/// non-finite), and skipping more steps would hide it.
/// </summary>
public sealed class LossScaleException : InvalidOperationException
{
    /// <summary>Creates the exception with its message.</summary>
    public LossScaleException(string message) : base(message) { }
}
