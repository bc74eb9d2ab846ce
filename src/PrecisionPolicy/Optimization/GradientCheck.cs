using static TorchSharp.torch;

namespace PrecisionPolicy.Optimization;

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
        var (finite, norm, _) = FiniteNorm(gradients, loss: null);
        return (finite, norm);
    }

    /// <summary>
    /// <see cref="FiniteNorm(Tensor)"/>, and the float32 value of the one-element <paramref name="loss"/>
    /// (null when none is given) read in the same host copy as the norm.
    /// </summary>
    public static (bool Finite, double Norm, double? Loss) FiniteNorm(Tensor gradients, Tensor? loss)
    {
        using var scope = NewDisposeScope();
        var norm = gradients.norm();
        var both = loss is null ? norm.reshape(1) : stack([norm, loss.detach().to(ScalarType.Float32).reshape(-1)[0]]);
        var values = HostReads.Float32(both);
        double? lossValue = loss is null ? null : values[1];
        if (float.IsFinite(values[0])) return (true, values[0], lossValue);
        var fp64 = HostReads.Scalar<double>(gradients.to(ScalarType.Float64).norm());
        return double.IsFinite(fp64) ? (true, fp64, lossValue) : (false, double.NaN, lossValue);
    }
}
