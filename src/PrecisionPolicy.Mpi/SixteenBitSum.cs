using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PrecisionPolicy.Mpi;

/// <summary>
/// The user-defined MPI ops that sum bfloat16 and float16 elements: each addition widens both operands
/// to float32, adds, and rounds the sum once to 16 bits (round to nearest even, as torch's conversion;
/// NaN stays NaN), as NCCL's 16-bit reduction and Horovod's MPI float16 sum do. MPI has no 16-bit
/// floating type, so the elements travel as <c>MPI_UNSIGNED_SHORT</c>.
/// </summary>
internal static unsafe class SixteenBitSum
{
    /// <summary>inout[i] = bf16(float(in[i]) + float(inout[i])).</summary>
    [UnmanagedCallersOnly(CallConvs = new[] { typeof(CallConvCdecl) })]
    public static void BFloat16(void* invec, void* inoutvec, int* length, int* datatype)
    {
        var a = (ushort*)invec;
        var b = (ushort*)inoutvec;
        for (var i = 0; i < *length; i++)
            b[i] = ToBFloat16(FromBFloat16(a[i]) + FromBFloat16(b[i]));
    }

    /// <summary>inout[i] = fp16(float(in[i]) + float(inout[i])).</summary>
    [UnmanagedCallersOnly(CallConvs = new[] { typeof(CallConvCdecl) })]
    public static void Float16(void* invec, void* inoutvec, int* length, int* datatype)
    {
        var a = (Half*)invec;
        var b = (Half*)inoutvec;
        for (var i = 0; i < *length; i++)
            b[i] = (Half)((float)a[i] + (float)b[i]);
    }

    /// <summary>The float32 value of a bfloat16 bit pattern (exact).</summary>
    public static float FromBFloat16(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>The bfloat16 nearest to <paramref name="value"/>, ties to even; NaN → 0x7FC0 (c10::BFloat16's rounding).</summary>
    public static ushort ToBFloat16(float value)
    {
        if (float.IsNaN(value)) return 0x7FC0;
        var bits = BitConverter.SingleToUInt32Bits(value);
        bits += 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)(bits >> 16);
    }
}
