using System;

namespace PrecisionPolicy;

/// <summary>
/// Marks a hand-written tensor that holds optimizer state (moments, momentum): the analyzers hold
/// it to float32, because it accumulates over many steps (Adam's eps 1e-8 is 0 in FP16).
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property | AttributeTargets.Parameter, Inherited = false)]
public sealed class OptimizerStateAttribute : Attribute
{
}
