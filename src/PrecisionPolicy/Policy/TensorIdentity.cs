using System;
using System.Reflection;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Policy;

/// <summary>
/// What makes two tensor wrappers the same tensor: the address of their first element, dtype, device, shape and
/// strides. TorchSharp wraps one native tensor in a new managed object (with a new handle) on each read of a native
/// module's parameter (<c>Embedding.weight</c>), so neither references nor handles say whether two parameters are
/// one. The address comes from TorchSharp's own native accessor (found once by reflection; any device). Where a
/// TorchSharp version lacks it, tensors have no identity here (null) and shared parameters are not merged.
/// </summary>
internal readonly record struct TensorIdentity(nint Address, ScalarType Dtype, string Device, string Shape, string Strides)
{
    private static readonly Func<nint, nint>? DataPointer = FindDataPointer();

    /// <summary>The identity of <paramref name="tensor"/>, or null for an empty tensor or one whose address cannot be read.</summary>
    public static TensorIdentity? Of(Tensor tensor)
    {
        if (tensor.numel() == 0 || DataPointer is not { } read || read(tensor.Handle) is var address && address == 0) return null;
        return new TensorIdentity(address, tensor.dtype, tensor.device.ToString(), string.Join(",", tensor.shape), string.Join(",", tensor.stride()));
    }

    // TorchSharp 0.107's NativeMethods.THSTensor_data (internal): tensor.data_ptr() of the native tensor.
    private static Func<nint, nint>? FindDataPointer()
    {
        var method = typeof(torch).Assembly.GetType("TorchSharp.PInvoke.NativeMethods")
            ?.GetMethod("THSTensor_data", BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Static, [typeof(nint)]);
        if (method is null || method.ReturnType != typeof(nint)) return null;
        try
        {
            return method.CreateDelegate<Func<nint, nint>>();
        }
        catch (ArgumentException)
        {
            return handle => (nint)method.Invoke(null, [handle])!;
        }
    }
}
