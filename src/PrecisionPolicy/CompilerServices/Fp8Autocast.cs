using System;
using System.ComponentModel;
using PrecisionPolicy.Casting;
using PrecisionPolicy.Fp8;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.CompilerServices;

/// <summary>
/// The FP8 cast generated code applies to each operand of a low-precision op (linear, matmul, conv,
/// ...) inside an <c>[Autocast(Precision.FP8)]</c> region.
/// </summary>
/// <remarks>For generated code; not for direct use: its members may change in any release.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Fp8Autocast
{
    /// <summary>
    /// Forward: scales the operand by its site's scale, saturates at ±FP8_MAX, rounds it to the
    /// recipe's forward format (E4M3) and unscales it, recording its amax. Backward: the gradient
    /// arriving at the operand gets the same treatment in the backward format (E5M2) with its own
    /// scale. The op then runs on the dequantized values: float32 when the device's
    /// <see cref="GemmMode"/> is <see cref="GemmMode.Fp32Accumulate"/> (an FP8 GEMM's FP32
    /// accumulation, exactly), bfloat16 (<see cref="AutocastDtypes.ComputeDtype"/> of FP8) when it is
    /// <see cref="GemmMode.Native"/>, the same dtypes <see cref="Autocast.LowPrecision"/> gives the
    /// operands it casts, so both kinds of operand meet in one op.
    /// float64, integer and bool tensors pass through unchanged. Under an <see cref="AutocastScope"/>
    /// of another precision (a reference run of an FP8 model) nothing is quantized: the operand is
    /// cast as <see cref="Autocast.LowPrecision"/> casts it, and no FP8 region is needed.
    /// </summary>
    /// <param name="tensor">The operand.</param>
    /// <param name="site">
    /// A stable id of the call site and operand: one scaling state per distinct id and pass, so
    /// each operand of each call site needs its own id (e.g. <c>"Block.cs:12:17#1"</c>), and the id
    /// must not change between runs for checkpoints to find their states.
    /// </param>
    /// <exception cref="InvalidOperationException">No FP8 region is active on this thread.</exception>
    public static Tensor Operand(Tensor tensor, string site)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentException.ThrowIfNullOrEmpty(site);
        if (!AutocastDtypes.IsCastable(tensor.dtype)) return tensor;
        if (AutocastScope.Effective(Precision.FP8) != Precision.FP8)
            return Autocast.LowPrecision(tensor, AutocastDtypes.ComputeDtype(Precision.FP8));
        var context = Fp8Context.Current ?? throw new InvalidOperationException(
            $"Fp8Autocast.Operand('{site}') ran outside an FP8 region. Call ApplyPrecisionPolicy() on the " +
            "[Autocast(Precision.FP8)] module (or Fp8Context.Attach(module, recipe)) and run it through module.call(...), " +
            "which runs the hooks that make its FP8 context current; forward(...) skips them.");
        var forward = context.StateFor(site, Fp8Direction.Forward);
        var output = GemmModes.For(tensor.device_type, AutocastDtypes.ComputeDtype(Precision.FP8)) == GemmMode.Fp32Accumulate ? ScalarType.Float32 : AutocastDtypes.ComputeDtype(Precision.FP8);
        if (!tensor.requires_grad || !torch.is_grad_enabled())
            return context.Quantize(forward, tensor, output);
        // The backward state exists only for operands that get a gradient, so the manifest lists no idle states.
        var backward = context.StateFor(site, Fp8Direction.Backward);
        return Fp8QuantizeFunction.apply(tensor, new Fp8QuantizeFunction.Sites(context, forward, backward, output));
    }
}
