using System;
using PrecisionPolicy.Catalog;

namespace PrecisionPolicy;

/// <summary>
/// The FP8 recipe of an <c>[Autocast(Precision.FP8)]</c> class. Defaults are TransformerEngine's
/// DelayedScaling recipe: HYBRID formats, margin 0, amax history 1024, amax = max over the history.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false, AllowMultiple = false)]
public sealed class Fp8RecipeAttribute : Attribute
{
    /// <summary>Format of forward operands (E4M3).</summary>
    public Fp8Format ForwardFormat { get; set; } = Fp8RecipeDefaults.ForwardFormat;

    /// <summary>Format of incoming gradients in backward (E5M2).</summary>
    public Fp8Format BackwardFormat { get; set; } = Fp8RecipeDefaults.BackwardFormat;

    /// <summary>scale = FP8_MAX / amax / 2^Margin.</summary>
    public int Margin { get; set; } = Fp8RecipeDefaults.Margin;

    /// <summary>Number of steps of amax kept per tensor.</summary>
    public int AmaxHistoryLength { get; set; } = Fp8RecipeDefaults.AmaxHistoryLength;

    /// <summary>Delayed (history) or current (this tensor) scaling.</summary>
    public Fp8Scaling Scaling { get; set; } = Fp8RecipeDefaults.Scaling;
}
