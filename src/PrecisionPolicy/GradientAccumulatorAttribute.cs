using System;

namespace PrecisionPolicy;

/// <summary>
/// Marks a hand-written tensor that gradients are added into across micro-batches: the analyzers
/// hold it to float32, because many small additions lose their low bits in 16-bit formats.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property | AttributeTargets.Parameter, Inherited = false)]
public sealed class GradientAccumulatorAttribute : Attribute
{
}
