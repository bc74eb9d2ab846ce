using System;
using PrecisionPolicy.CompilerServices;
using PrecisionPolicy.Optimization;
using static TorchSharp.torch;

namespace PrecisionPolicy.Policy;

/// <summary>The manifest of a policy module as its optimizer holds it.</summary>
public static class PrecisionManifestExtensions
{
    /// <summary>
    /// Like the generated <c>GetPrecisionManifest()</c>, with masters, gradients, accumulators and
    /// optimizer state counted from what <paramref name="optimizer"/> holds rather than predicted from
    /// <c>requires_grad</c>.
    /// </summary>
    public static PrecisionManifest GetPrecisionManifest(this nn.Module module, MasterWeightOptimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (module is not IPrecisionPolicyModule policy)
            throw new ArgumentException($"{module.GetType().Name} has no precision policy: annotate it with [Autocast] (a partial class) so the generator gives it one.", nameof(module));
        return PrecisionManifest.Of(module, policy.PrecisionPlan, optimizer);
    }
}
