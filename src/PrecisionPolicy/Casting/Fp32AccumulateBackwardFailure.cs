using System;
using System.Runtime.InteropServices;
using System.Threading;
using static TorchSharp.torch;

namespace PrecisionPolicy;

/// <summary>
/// The failure of a C# backward of an Fp32Accumulate GEMM node. An exception must not leave a C#
/// backward (it would cross libtorch's engine and end the process), so a node that fails (a saved
/// operand changed in place since forward) returns NaN gradients, which no step applies, and records
/// the failure here: <see cref="MasterWeightOptimizer.Backward"/> throws it once backward returns.
/// </summary>
internal static class Fp32AccumulateBackwardFailure
{
    private static Exception? failure;

    /// <summary>Keeps the first failure since the last <see cref="Take"/>.</summary>
    public static void Record(string op, ExternalException e) =>
        Interlocked.CompareExchange(ref failure, new InvalidOperationException($"Backward of a {op} in Fp32Accumulate mode failed: {e.Message.Split('\n', 2)[0]}", e), null);

    /// <summary>The failure of a backward since the last call, or null; clears it.</summary>
    public static Exception? Take() => Interlocked.Exchange(ref failure, null);

    /// <summary>The gradient a failed node returns for an operand: NaN everywhere, so no step applies it.</summary>
    public static Tensor NaNGradient(long[] shape, ScalarType dtype, Device device) => full(shape, float.NaN, dtype: dtype, device: device);
}
