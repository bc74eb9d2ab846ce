using System;
using System.Collections.Generic;
using System.ComponentModel;
using PrecisionPolicy.Fp8;
using PrecisionPolicy.Optimization;
using TorchSharp;

namespace PrecisionPolicy.CompilerServices;

/// <summary>
/// The FP8 context of an <c>[Autocast(Precision.FP8)]</c> module: what its generated <c>ApplyPrecisionPolicy()</c>
/// attaches and what its generated <see cref="IOptimizerCompanionSource"/> hands the optimizer, so only FP8 classes'
/// generated code names FP8 and a nested FP8 module inside a BF16 model still gets its scaling state stepped.
/// </summary>
/// <remarks>For generated code; not for direct use: its members may change in any release.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Fp8Companion
{
    /// <summary>The module's FP8 context as an optimizer companion when FP8 is the precision in force; otherwise none.</summary>
    public static IEnumerable<IOptimizerCompanion> Of(torch.nn.Module module, PrecisionPlan plan) =>
        AttachIfFp8(module, plan) is { } context ? [context] : [];

    /// <summary>
    /// Attaches the module's FP8 context (its forward, run through <c>call</c>, becomes the FP8 region
    /// <see cref="Fp8Autocast.Operand"/> needs) when the plan's precision in force is FP8, and returns it; otherwise null.
    /// </summary>
    internal static Fp8Context? AttachIfFp8(torch.nn.Module module, PrecisionPlan plan)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(plan);
        return plan.EffectivePrecision == Precision.FP8 ? Fp8Context.Attach(module, plan.Fp8Recipe) : null;
    }
}
