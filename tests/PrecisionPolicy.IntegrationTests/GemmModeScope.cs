using System;
using PrecisionPolicy.Casting;
using TorchSharp;

namespace PrecisionPolicy.IntegrationTests;

/// <summary>
/// Forces the CPU GEMM mode for a test (<see cref="GemmModes.Override"/>) and clears the override when disposed, so
/// the next test sees the configured or calibrated mode again. The override is process-wide: the assembly's tests
/// run one at a time (Usings.cs).
/// </summary>
internal sealed class GemmModeScope : IDisposable
{
    private GemmModeScope()
    {
    }

    /// <summary>Forces <paramref name="mode"/> on the CPU until the scope is disposed.</summary>
    public static GemmModeScope Use(GemmMode mode)
    {
        GemmModes.Override(DeviceType.CPU, mode);
        return new GemmModeScope();
    }

    public void Dispose() => GemmModes.Override(DeviceType.CPU, null);
}
