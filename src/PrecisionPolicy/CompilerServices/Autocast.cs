using System.ComponentModel;
using PrecisionPolicy.Casting;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.CompilerServices;

/// <summary>
/// The casting helpers generated interceptors call. Each casts only float32/float16/bfloat16
/// tensors (never float64, integer or bool), and is a no-op when the tensor already has the dtype.
/// </summary>
/// <remarks>For generated code; not for direct use: its members may change in any release.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Autocast
{
    /// <summary>
    /// An operand of a low-precision op (matmul, linear, conv, ...). In <see cref="GemmMode.Native"/>
    /// it is cast to <paramref name="compute"/>; in <see cref="GemmMode.Fp32Accumulate"/> it is
    /// rounded to <paramref name="compute"/> and widened to float32, so the op sees exactly the
    /// low-precision values but accumulates in FP32. Pair with <see cref="LowPrecisionResult"/>.
    /// </summary>
    public static Tensor LowPrecision(Tensor tensor, ScalarType compute)
    {
        compute = AutocastScope.ComputeDtype(compute);
        var dtype = tensor.dtype;
        if (!AutocastDtypes.IsCastable(dtype) || compute == ScalarType.Float32) return tensor;
        if (GemmModes.For(tensor.device_type, compute) == GemmMode.Native)
            return dtype == compute ? tensor : tensor.to(compute);
        if (dtype == compute) return tensor.to(ScalarType.Float32);
        // The rounded copy is only a step to the widened one (autograd keeps no reference to it): freed
        // now, not at the end of the caller's dispose scope, where it would count as activation memory.
        using var rounded = tensor.to(compute);
        return rounded.to(ScalarType.Float32);
    }

    /// <summary><see cref="LowPrecision(Tensor, ScalarType)"/> for optional operands (a bias).</summary>
    public static Tensor? LowPrecisionOptional(Tensor? tensor, ScalarType compute) =>
        tensor is null ? null : LowPrecision(tensor, compute);

    /// <summary>
    /// The result of a low-precision op: in <see cref="GemmMode.Fp32Accumulate"/> the FP32 result is
    /// rounded to <paramref name="compute"/>, as a tensor-core GEMM writes it, and disposed (it is the
    /// op's fresh output, which autograd does not keep: held until the caller's dispose scope ends it
    /// would double the activation memory of a 16-bit model); otherwise returned unchanged.
    /// </summary>
    public static Tensor LowPrecisionResult(Tensor result, ScalarType compute)
    {
        compute = AutocastScope.ComputeDtype(compute);
        if (compute == ScalarType.Float32 || result.dtype != ScalarType.Float32) return result;
        if (GemmModes.For(result.device_type, compute) != GemmMode.Fp32Accumulate) return result;
        var rounded = result.to(compute);
        result.Dispose();
        return rounded;
    }

    /// <summary>An input of an FP32 op (softmax, norms, losses, exp, ...): widened to float32.</summary>
    public static Tensor Float32(Tensor tensor) =>
        AutocastDtypes.IsCastable(tensor.dtype) && tensor.dtype != ScalarType.Float32 ? tensor.to(ScalarType.Float32) : tensor;

    /// <summary><see cref="Float32(Tensor)"/> for optional inputs (weights of norms, loss weights).</summary>
    public static Tensor? Float32Optional(Tensor? tensor) => tensor is null ? null : Float32(tensor);

    /// <summary>
    /// Frees <paramref name="widened"/>, the float32 copy <see cref="Float32(Tensor)"/> made of <paramref name="original"/>
    /// for a TorchSharp op that has returned <paramref name="result"/>. Autograd holds its own reference to an input its
    /// backward needs (layer_norm's, pow's), so only this handle goes; an input it does not need (softmax's, log_softmax's)
    /// is freed now instead of when the caller's dispose scope ends, where a 16-bit model would hold it at twice its
    /// bytes. Nothing happens when no copy was made (the input was float32 already, or null) or the op returned it.
    /// </summary>
    public static void ReleaseFloat32Copy(Tensor? widened, Tensor? original, Tensor result)
    {
        if (widened is null || ReferenceEquals(widened, original) || ReferenceEquals(widened, result)) return;
        widened.Dispose();
    }

    /// <summary>The widest castable floating dtype among the tensors (for promote ops), or null if none.</summary>
    public static ScalarType? Widest(params Tensor?[] tensors)
    {
        ScalarType? widest = null;
        foreach (var t in tensors)
        {
            if (t is null || !AutocastDtypes.IsCastable(t.dtype)) continue;
            widest = widest is null ? t.dtype : Wider(widest.Value, t.dtype);
        }
        return widest;
    }

    /// <summary>A tensor of a promote op, cast to <paramref name="widest"/> when it is castable and narrower.</summary>
    public static Tensor Promote(Tensor tensor, ScalarType? widest) =>
        widest is { } w && AutocastDtypes.IsCastable(tensor.dtype) && tensor.dtype != w ? tensor.to(w) : tensor;

    private static ScalarType Wider(ScalarType a, ScalarType b) =>
        a == ScalarType.Float32 || b == ScalarType.Float32 ? ScalarType.Float32
        : a == b ? a
        : ScalarType.Float32; // float16 with bfloat16: neither holds the other, so FP32 (as PyTorch promotes)
}
