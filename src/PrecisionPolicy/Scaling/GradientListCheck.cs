using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy.Optimization;
using static TorchSharp.torch;

namespace PrecisionPolicy.Scaling;

/// <summary>
/// The finiteness check and L2 norm of a list of gradients (a plain optimizer's, one tensor per
/// parameter) with one host sync per device: the norm of the per-tensor norms is finite exactly when
/// every gradient is finite, unless finite gradients overflow float32 when squared; only then is each
/// tensor looked at on its own (<see cref="GradientCheck.FiniteNorm(Tensor)"/>, which re-checks in float64).
/// </summary>
internal static class GradientListCheck
{
    /// <summary>Whether every gradient is finite, their joint L2 norm (NaN when not), and the index of the first non-finite one (-1 when none).</summary>
    public static (bool Finite, double Norm, int FirstNonFinite) FiniteNorm(IReadOnlyList<Tensor> gradients)
    {
        using var scope = NewDisposeScope();
        double sumOfSquares = 0;
        foreach (var onDevice in Enumerable.Range(0, gradients.Count).GroupBy(i => gradients[i].device.ToString()))
        {
            var indices = onDevice.ToArray();
            var norms = stack(indices.Select(i => AsFloat32(gradients[i]).norm()).ToArray());
            var joint = (double)HostReads.Scalar<float>(norms.norm());
            if (double.IsFinite(joint))
            {
                sumOfSquares += joint * joint;
                continue;
            }
            foreach (var i in indices)
            {
                var (finite, norm) = GradientCheck.FiniteNorm(AsFloat32(gradients[i]));
                if (!finite) return (false, double.NaN, i);
                sumOfSquares += norm * norm;
            }
        }
        return (true, System.Math.Sqrt(sumOfSquares), -1);
    }

    // BF16 gradients (a hand-written loop may train BF16 parameters directly): their norms in float32.
    private static Tensor AsFloat32(Tensor gradient) => gradient.dtype == ScalarType.Float32 ? gradient : gradient.to(ScalarType.Float32);
}
