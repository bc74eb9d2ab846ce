using System;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Optimization;

/// <summary>
/// Every copy of tensor values to the host that the optimizer's step and the loss scaler make. On
/// CUDA each one waits for the device to finish the queued work (a host sync), so the step makes as
/// few as it can: one for an FP32 step without gradient statistics (the norm, which settles
/// finiteness too, and the loss, read together). Counted per thread so tests can hold the step to it.
/// </summary>
internal static class HostReads
{
    [ThreadStatic]
    private static long count;

    /// <summary>Host reads made on this thread so far.</summary>
    public static long Count => count;

    /// <summary>The values of a float32 tensor, in one copy.</summary>
    public static float[] Float32(Tensor values)
    {
        if (values.dtype != ScalarType.Float32)
            throw new ArgumentException($"Expected a float32 tensor, got {values.dtype}.", nameof(values));
        count++;
        if (values.device_type == DeviceType.CPU) return values.data<float>().ToArray();
        using var host = values.cpu();
        return host.data<float>().ToArray();
    }

    /// <summary>The value of a one-element tensor.</summary>
    public static T Scalar<T>(Tensor value) where T : unmanaged
    {
        count++;
        return value.item<T>();
    }
}
