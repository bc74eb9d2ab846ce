using PrecisionPolicy.Interop;
using PrecisionPolicy.Scaling;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Interop;

public sealed class FsdpMixedPrecisionTests
{
    [Fact]
    public void The_default_mixed_precision_casts_nothing()
    {
        // torch.distributed.fsdp.MixedPrecision(): param_dtype, reduce_dtype and buffer_dtype all None.
        var defaults = FsdpMixedPrecision.Parse("MixedPrecision()");
        Assert.Equal(new FsdpMixedPrecision(), defaults);
        var policy = defaults.ToPolicy();
        Assert.Equal((Precision.FP32, ScalarType.Float32, AutocastReduce.Compute, (ScalarType?)null), (policy.Precision, policy.ParamDtype, policy.ReduceDtype, policy.BufferDtype));
        Assert.Equal(LossScalingMode.Off, policy.Scaling.Mode);
    }

    [Fact]
    public void Bf16_params_with_fp32_reduction()
    {
        var mp = FsdpMixedPrecision.Parse("MixedPrecision(param_dtype=torch.bfloat16, reduce_dtype=torch.float32, buffer_dtype=torch.bfloat16)");
        Assert.Equal(new FsdpMixedPrecision(ScalarType.BFloat16, ScalarType.Float32, ScalarType.BFloat16), mp);
        var policy = mp.ToPolicy();
        Assert.Equal((Precision.BF16, ScalarType.Float32, AutocastReduce.Float32, (ScalarType?)ScalarType.BFloat16), (policy.Precision, policy.ParamDtype, policy.ReduceDtype, policy.BufferDtype));
    }

    [Fact]
    public void Fp16_params_get_the_runtimes_default_dynamic_scaling()
    {
        // FSDP has no scaler of its own (ShardedGradScaler is GradScaler's defaults): the runtime's default for FP16.
        var policy = FsdpMixedPrecision.Parse("param_dtype=torch.half").ToPolicy();
        Assert.Equal(Precision.FP16, policy.Precision);
        Assert.Equal(LossScalerOptions.For(Precision.FP16), policy.Scaling);
    }

    [Theory]
    [InlineData("MixedPrecision()")]
    [InlineData("MixedPrecision(param_dtype=torch.bfloat16)")]
    [InlineData("MixedPrecision(param_dtype=torch.float16, reduce_dtype=torch.float32)")]
    [InlineData("MixedPrecision(param_dtype=torch.bfloat16, reduce_dtype=torch.float32, buffer_dtype=torch.bfloat16)")]
    [InlineData("MixedPrecision(reduce_dtype=torch.bfloat16)")]
    public void Round_trip_through_the_runtime_policy(string text)
    {
        var policy = FsdpMixedPrecision.Parse(text).ToPolicy();
        var back = FsdpMixedPrecision.From(policy);
        Assert.Equal(text, back.ToString());
        Assert.Equal(policy, back.ToPolicy());
    }

    [Theory]
    [InlineData("MixedPrecision(param_dtype=torch.float64)", "param_dtype")]
    [InlineData("MixedPrecision(param_dtype=bfloat16)", "param_dtype")]
    [InlineData("MixedPrecision(reduce_dtype=torch.int8)", "reduce_dtype")]
    [InlineData("MixedPrecision(keep_low_precision_grads=True)", "keep_low_precision_grads")]
    [InlineData("MixedPrecision(param_dtype=torch.bfloat16, param_dtype=torch.float16)", "param_dtype")]
    [InlineData("MixedPrecision(torch.bfloat16)", "torch.bfloat16")]
    [InlineData("MixedPrecision[param_dtype=torch.bfloat16]", "text")]
    public void Bad_values_are_errors_naming_the_field(string text, string field)
    {
        var e = Assert.Throws<PolicyFormatException>(() => FsdpMixedPrecision.Parse(text));
        Assert.Equal(field, e.Field);
        Assert.Contains(field, e.Message, System.StringComparison.Ordinal);
    }

    [Fact]
    public void Dtypes_fsdp_cannot_hold_are_errors_on_conversion()
    {
        Assert.Equal("reduce_dtype", Assert.Throws<PolicyFormatException>(() => new FsdpMixedPrecision(ReduceDtype: ScalarType.Float64).ToPolicy()).Field);
        Assert.Equal("param_dtype", Assert.Throws<PolicyFormatException>(() => FsdpMixedPrecision.From(JmpPolicy.Parse("half"))).Field);
    }
}
