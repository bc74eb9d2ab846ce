using System;

namespace PrecisionPolicy;

/// <summary>An 8-bit floating-point format.</summary>
public enum Fp8Format
{
    /// <summary>4 exponent bits, 3 mantissa bits, max 448, no infinities: forward operands.</summary>
    E4M3,
    /// <summary>5 exponent bits, 2 mantissa bits, max 57344: gradients.</summary>
    E5M2,
}

/// <summary>How an FP8 tensor's scale is chosen.</summary>
public enum Fp8Scaling
{
    /// <summary>From the amax history of earlier steps (TransformerEngine's DelayedScaling).</summary>
    Delayed,
    /// <summary>From this tensor's own amax (one extra reduction per cast).</summary>
    Current,
}

/// <summary>
/// The FP8 recipe of an <c>[Autocast(Precision.FP8)]</c> class. Defaults are TransformerEngine's
/// DelayedScaling recipe: HYBRID formats, margin 0, amax history 1024, amax = max over the history.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false, AllowMultiple = false)]
public sealed class Fp8RecipeAttribute : Attribute
{
    /// <summary>Format of forward operands (E4M3).</summary>
    public Fp8Format ForwardFormat { get; set; } = Fp8Format.E4M3;

    /// <summary>Format of incoming gradients in backward (E5M2).</summary>
    public Fp8Format BackwardFormat { get; set; } = Fp8Format.E5M2;

    /// <summary>scale = FP8_MAX / amax / 2^Margin.</summary>
    public int Margin { get; set; }

    /// <summary>Number of steps of amax kept per tensor.</summary>
    public int AmaxHistoryLength { get; set; } = 1024;

    /// <summary>Delayed (history) or current (this tensor) scaling.</summary>
    public Fp8Scaling Scaling { get; set; } = Fp8Scaling.Delayed;
}
