using System;

namespace PrecisionPolicy;

/// <summary>
/// Keeps a submodule (field or property: its parameters and its compute), a method (its region) or
/// a module class (wherever it is used) in float32 inside an <see cref="AutocastAttribute"/> policy.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property | AttributeTargets.Method | AttributeTargets.Class,
    Inherited = false, AllowMultiple = false)]
public sealed class HighPrecisionAttribute : Attribute
{
}
