using System;
using PrecisionPolicy.Casting;
using PrecisionPolicy.CompilerServices;
using PrecisionPolicy.Policy;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Casting;

[Collection(GemmModeCollection.Name)]
public sealed class AutocastTests : IDisposable
{
    public AutocastTests() => GemmModes.Override(DeviceType.CPU, GemmMode.Native);

    public void Dispose() => GemmModes.Override(DeviceType.CPU, null);

    [Theory]
    [InlineData(ScalarType.Float64)]
    [InlineData(ScalarType.Int64)]
    [InlineData(ScalarType.Int32)]
    [InlineData(ScalarType.Bool)]
    public void Never_casts_float64_integer_or_bool(ScalarType dtype)
    {
        using var t = ones(3).to(dtype);
        Assert.Same(t, Autocast.LowPrecision(t, ScalarType.BFloat16));
        Assert.Same(t, Autocast.Float32(t));
        Assert.Same(t, Autocast.Promote(t, ScalarType.Float32));
    }

    [Fact]
    public void Is_a_no_op_when_the_dtype_is_already_right()
    {
        using var bf16 = ones(3).to(ScalarType.BFloat16);
        using var fp32 = ones(3);
        Assert.Same(bf16, Autocast.LowPrecision(bf16, ScalarType.BFloat16));
        Assert.Same(fp32, Autocast.Float32(fp32));
        Assert.Same(fp32, Autocast.LowPrecision(fp32, ScalarType.Float32));
    }

    [Fact]
    public void Native_mode_casts_operands_to_the_compute_dtype_and_leaves_results()
    {
        using var x = ones(3);
        using var cast = Autocast.LowPrecision(x, ScalarType.Float16);
        Assert.Equal(ScalarType.Float16, cast.dtype);
        Assert.Same(cast, Autocast.LowPrecisionResult(cast, ScalarType.Float16));
        Assert.Equal(ScalarType.Float32, Autocast.Float32(cast).dtype);
    }

    [Fact]
    public void Fp32_accumulate_mode_rounds_operands_to_the_compute_dtype_but_hands_float32_to_the_op()
    {
        GemmModes.Override(DeviceType.CPU, GemmMode.Fp32Accumulate);
        using var x = tensor(new[] { 1.0f + 1.0f / 1024 }); // not representable in bfloat16 (8-bit mantissa)
        using var operand = Autocast.LowPrecision(x, ScalarType.BFloat16);
        Assert.Equal(ScalarType.Float32, operand.dtype);
        Assert.Equal(1.0f, operand.item<float>());

        using var result = Autocast.LowPrecisionResult(operand, ScalarType.BFloat16);
        Assert.Equal(ScalarType.BFloat16, result.dtype);
    }

    [Fact]
    public void Fp32_accumulate_matmul_equals_a_bf16_gemm_with_fp32_accumulation()
    {
        GemmModes.Override(DeviceType.CPU, GemmMode.Fp32Accumulate);
        manual_seed(11);
        using var a = randn(8, 64);
        using var b = randn(64, 8);
        var viaHelpers = Autocast.LowPrecisionResult(
            matmul(Autocast.LowPrecision(a, ScalarType.BFloat16), Autocast.LowPrecision(b, ScalarType.BFloat16)), ScalarType.BFloat16);
        var reference = matmul(a.to(ScalarType.BFloat16).to(ScalarType.Float32), b.to(ScalarType.BFloat16).to(ScalarType.Float32)).to(ScalarType.BFloat16);
        Assert.True(viaHelpers.equal(reference).all().item<bool>());
    }

    [Fact]
    public void Widest_promotes_half_with_bfloat16_to_float32_and_ignores_non_floating()
    {
        using var h = ones(2).to(ScalarType.Float16);
        using var b = ones(2).to(ScalarType.BFloat16);
        using var i = ones(2).to(ScalarType.Int64);
        Assert.Equal(ScalarType.Float32, Autocast.Widest(h, b));
        Assert.Equal(ScalarType.Float16, Autocast.Widest(h, i, null));
        Assert.Null(Autocast.Widest(i));
        Assert.Equal(ScalarType.Float32, Autocast.Promote(h, ScalarType.Float32).dtype);
    }

    [Fact]
    public void Optional_operands_pass_null_through()
    {
        Assert.Null(Autocast.LowPrecisionOptional(null, ScalarType.BFloat16));
        Assert.Null(Autocast.Float32Optional(null));
    }
}

[Collection(GemmModeCollection.Name)]
public sealed class GemmModesTests : IDisposable
{
    // The test run may force a mode for every test (CI runs once per mode): measure without it, then restore it.
    private readonly string? configured = Environment.GetEnvironmentVariable(GemmModes.EnvironmentVariable);

    public GemmModesTests() => Environment.SetEnvironmentVariable(GemmModes.EnvironmentVariable, null);

    public void Dispose()
    {
        GemmModes.Override(DeviceType.CPU, null);
        Environment.SetEnvironmentVariable(GemmModes.EnvironmentVariable, configured);
    }

    [Fact]
    public void Cuda_is_native_and_an_override_wins_and_is_reported()
    {
        Assert.Equal(GemmMode.Native, GemmModes.For(DeviceType.CUDA, ScalarType.Float16));
        GemmModes.Override(DeviceType.CPU, GemmMode.Native);
        Assert.Equal(GemmMode.Native, GemmModes.For(DeviceType.CPU, ScalarType.Float16));
        Assert.Equal("Native (override)", GemmModes.Describe(DeviceType.CPU, ScalarType.Float16));
    }

    [Fact]
    public void Cpu_16_bit_modes_are_measured_once_per_process_and_take_the_faster_path()
    {
        foreach (var dtype in new[] { ScalarType.BFloat16, ScalarType.Float16 })
        {
            var choice = GemmModes.Choice(DeviceType.CPU, dtype);
            Assert.Contains(choice.Source, new[] { GemmModeSource.Measured, GemmModeSource.Cached });
            Assert.Equal(choice.Calibration!.Faster, choice.Mode);
            Assert.Equal(choice.Mode, GemmModes.For(DeviceType.CPU, dtype));
            Assert.Same(choice, GemmModes.Choice(DeviceType.CPU, dtype));
        }
        var fp32 = GemmModes.Choice(DeviceType.CPU, ScalarType.Float32);
        Assert.Equal((GemmMode.Native, GemmModeSource.NotLowPrecision, (GemmCalibration?)null), (fp32.Mode, fp32.Source, fp32.Calibration));
    }

    [Fact]
    public void Override_beats_the_environment_variable_which_beats_measurement()
    {
        Environment.SetEnvironmentVariable(GemmModes.EnvironmentVariable, "Fp32Accumulate");
        Assert.Equal((GemmMode.Fp32Accumulate, GemmModeSource.EnvironmentVariable), Summary(GemmModes.Choice(DeviceType.CPU, ScalarType.BFloat16)));
        Assert.Equal((GemmMode.Fp32Accumulate, GemmModeSource.EnvironmentVariable), Summary(GemmModes.Choice(DeviceType.CUDA, ScalarType.BFloat16)));
        GemmModes.Override(DeviceType.CPU, GemmMode.Native);
        Assert.Equal((GemmMode.Native, GemmModeSource.Override), Summary(GemmModes.Choice(DeviceType.CPU, ScalarType.BFloat16)));
        Assert.Equal(GemmMode.Native, GemmModes.For(DeviceType.CPU, ScalarType.BFloat16));
        Environment.SetEnvironmentVariable(GemmModes.EnvironmentVariable, null);
        Assert.Equal((GemmMode.Native, GemmModeSource.Accelerator), Summary(GemmModes.Choice(DeviceType.CUDA, ScalarType.BFloat16)));
        Assert.Equal("Native (accelerator)", GemmModes.Describe(DeviceType.CUDA, ScalarType.Float16));

        static (GemmMode, GemmModeSource) Summary(GemmModeChoice c) => (c.Mode, c.Source);
    }

    [Fact]
    public void The_manifest_reports_the_gemm_choice_for_the_module_device_and_compute_dtype()
    {
        GemmModes.Override(DeviceType.CPU, GemmMode.Fp32Accumulate);
        using var layer = nn.Linear(4, 4);
        var bf16 = PrecisionManifest.Of(layer, new PrecisionPlan("Layer", Precision.BF16, Array.Empty<string>()));
        Assert.Equal((DeviceType.CPU, ScalarType.BFloat16, GemmMode.Fp32Accumulate, GemmModeSource.Override),
            (bf16.Gemm!.Device, bf16.Gemm.Compute, bf16.Gemm.Mode, bf16.Gemm.Source));
        Assert.Contains("GEMM mode on CPU for BFloat16: Fp32Accumulate (override)", bf16.ToString());
        var fp32 = PrecisionManifest.Of(layer, new PrecisionPlan("Layer", Precision.FP32, Array.Empty<string>()));
        Assert.Null(fp32.Gemm);
        Assert.DoesNotContain("GEMM mode", fp32.ToString());
    }

    [Fact]
    public void Environment_variable_overrides_and_a_bad_value_is_a_clear_error()
    {
        Environment.SetEnvironmentVariable(GemmModes.EnvironmentVariable, "native");
        Assert.Equal(GemmMode.Native, GemmModes.For(DeviceType.CPU, ScalarType.Float16));
        Environment.SetEnvironmentVariable(GemmModes.EnvironmentVariable, "7");
        Assert.Throws<InvalidOperationException>(() => GemmModes.For(DeviceType.CPU, ScalarType.Float16));
        Environment.SetEnvironmentVariable(GemmModes.EnvironmentVariable, "fast");
        var error = Assert.Throws<InvalidOperationException>(() => GemmModes.For(DeviceType.CPU, ScalarType.Float16));
        Assert.Contains("Native or Fp32Accumulate", error.Message);
    }
}

/// <summary>GEMM mode is process-wide: tests that change it run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GemmModeCollection
{
    public const string Name = "GEMM mode";
}

[Collection(GemmModeCollection.Name)]
public sealed class AutocastScopeTests : IDisposable
{
    public AutocastScopeTests() => GemmModes.Override(DeviceType.CPU, GemmMode.Native);

    public void Dispose() => GemmModes.Override(DeviceType.CPU, null);

    [Fact]
    public void A_scope_replaces_the_compiled_compute_dtype_and_nests()
    {
        using var x = ones(2);
        Assert.Equal(ScalarType.BFloat16, Autocast.LowPrecision(x, ScalarType.BFloat16).dtype);
        using (AutocastScope.Use(Precision.FP16))
        {
            Assert.Equal(ScalarType.Float16, Autocast.LowPrecision(x, ScalarType.BFloat16).dtype);
            Assert.Equal(Precision.FP16, AutocastScope.Effective(Precision.BF16));
            using (AutocastScope.Use(Precision.FP32))
                Assert.Same(x, Autocast.LowPrecision(x, ScalarType.BFloat16));
            Assert.Equal(Precision.FP16, AutocastScope.Current);
        }
        Assert.Null(AutocastScope.Current);
        Assert.Equal(Precision.BF16, AutocastScope.Effective(Precision.BF16));
    }
}
