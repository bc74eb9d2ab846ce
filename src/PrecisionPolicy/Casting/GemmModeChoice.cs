using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Casting;

/// <summary>Why a <see cref="GemmMode"/> was chosen.</summary>
public enum GemmModeSource
{
    /// <summary><see cref="GemmModes.Override"/> forced it.</summary>
    Override,
    /// <summary>The <c>PRECISIONPOLICY_GEMM_MODE</c> environment variable forced it.</summary>
    EnvironmentVariable,
    /// <summary>A CUDA (or other accelerator) device: native, without measuring (see <see cref="GemmModes"/>).</summary>
    Accelerator,
    /// <summary>The compute dtype is not 16-bit, so there is nothing to choose.</summary>
    NotLowPrecision,
    /// <summary>Measured in this process.</summary>
    Measured,
    /// <summary>Measured by an earlier process on the same CPU and libtorch, read from the calibration cache file.</summary>
    Cached,
}

/// <summary>
/// What a GEMM calibration measured: the single-thread throughput of both paths at the calibration shapes.
/// </summary>
/// <param name="Fp32AccumulateGflops">GFLOP/s of the <see cref="GemmMode.Fp32Accumulate"/> path (widen operands, FP32 GEMM, round the result).</param>
/// <param name="NativeGflops">GFLOP/s of the <see cref="GemmMode.Native"/> 16-bit GEMM.</param>
/// <param name="LargestSize">The largest square GEMM size both paths ran at (the native path stops at the probe size when it is far slower).</param>
/// <param name="Milliseconds">Wall time the calibration took.</param>
public sealed record GemmCalibration(double Fp32AccumulateGflops, double NativeGflops, int LargestSize, double Milliseconds)
{
    /// <summary>The faster path; a tie goes to native (no casts, less memory).</summary>
    public GemmMode Faster => NativeGflops >= Fp32AccumulateGflops ? GemmMode.Native : GemmMode.Fp32Accumulate;

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"Fp32Accumulate {Fp32AccumulateGflops:F1} GFLOP/s, Native {NativeGflops:F1} GFLOP/s, up to n={LargestSize}, calibrated in {Milliseconds:F0} ms");
}

/// <summary>The GEMM mode for one device type and compute dtype, why, and what was measured.</summary>
/// <param name="Device">The device type.</param>
/// <param name="Compute">The compute dtype of the low-precision ops.</param>
/// <param name="Mode">The mode the casting helpers use.</param>
/// <param name="Source">Why this mode.</param>
/// <param name="Calibration">The measurement behind <see cref="GemmModeSource.Measured"/> and <see cref="GemmModeSource.Cached"/>; otherwise null.</param>
public sealed record GemmModeChoice(DeviceType Device, ScalarType Compute, GemmMode Mode, GemmModeSource Source, GemmCalibration? Calibration)
{
    /// <summary>One line for reports, e.g. <c>Fp32Accumulate (measured: Fp32Accumulate 61.2 GFLOP/s, Native 0.5 GFLOP/s, ...)</c>.</summary>
    public override string ToString()
    {
        var why = Source switch
        {
            GemmModeSource.Override => "override",
            GemmModeSource.EnvironmentVariable => GemmModes.EnvironmentVariable,
            GemmModeSource.Accelerator => "accelerator",
            GemmModeSource.NotLowPrecision => $"{Compute} compute",
            GemmModeSource.Measured => $"measured: {Calibration}",
            _ => $"cached measurement: {Calibration}",
        };
        return $"{Mode} ({why})";
    }
}
