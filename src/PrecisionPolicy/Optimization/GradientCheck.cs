using static TorchSharp.torch;

namespace PrecisionPolicy;

/// <summary>
/// The step's finiteness check and gradient norm as one reduction and one host sync. The FP32
/// 2-norm of the flat gradient buffer is finite exactly when every gradient is finite and the sum
/// of squares stays below FP32's maximum: one inf or NaN makes it inf or NaN. So a finite norm
/// settles both questions at once (a separate <c>isfinite().all()</c> pass, a bool tensor as large
/// as the gradients, cost ~10× the norm). Only a non-finite norm needs a second look, because
/// finite gradients above ~1.8e19 overflow FP32 when squared: the norm is then recomputed in
/// float64, where squares of FP32 values cannot overflow, and only a real inf or NaN is non-finite.
/// </summary>
internal static class GradientCheck
{
    /// <summary>Whether every element of <paramref name="gradients"/> is finite, and its 2-norm (NaN when not finite).</summary>
    public static (bool Finite, double Norm) FiniteNorm(Tensor gradients)
    {
        using var norm = gradients.norm();
        var fp32 = (double)norm.item<float>();
        if (double.IsFinite(fp32)) return (true, fp32);
        using var wide = gradients.to(ScalarType.Float64);
        using var wideNorm = wide.norm();
        var fp64 = wideNorm.item<double>();
        return double.IsFinite(fp64) ? (true, fp64) : (false, double.NaN);
    }
}
