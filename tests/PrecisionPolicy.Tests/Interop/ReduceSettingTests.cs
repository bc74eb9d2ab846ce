using PrecisionPolicy.Distributed;
using PrecisionPolicy.Interop;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Interop;

/// <summary>DeepSpeed's communication_data_type and FSDP's reduce_dtype read into the one setting [Autocast(ReduceDtype)] holds.</summary>
public sealed class ReduceSettingTests
{
    [Theory]
    [InlineData("fp32", "torch.float32", AutocastReduce.Float32)]
    [InlineData("bf16", "torch.bfloat16", AutocastReduce.BFloat16)]
    [InlineData("fp16", "torch.float16", AutocastReduce.Float16)]
    public void Both_vocabularies_name_the_same_reduce_setting(string deepSpeed, string fsdp, AutocastReduce expected)
    {
        var fromDeepSpeed = DeepSpeedPrecision.Read($$"""{ "bf16": { "enabled": true }, "communication_data_type": "{{deepSpeed}}" }""");
        var fromFsdp = FsdpMixedPrecision.Parse($"MixedPrecision(param_dtype=torch.bfloat16, reduce_dtype={fsdp})").ToPolicy();
        Assert.Equal(expected, fromDeepSpeed.ReduceDtype);
        Assert.Equal(expected, fromFsdp.ReduceDtype);
    }

    [Fact]
    public void Left_unset_both_reduce_in_the_compute_dtype()
    {
        var fromDeepSpeed = DeepSpeedPrecision.Read("""{ "fp16": { "enabled": true } }""");
        var fromFsdp = FsdpMixedPrecision.Parse("MixedPrecision(param_dtype=torch.bfloat16)").ToPolicy();
        Assert.Equal((AutocastReduce.Compute, ScalarType.Float16), (fromDeepSpeed.ReduceDtype, DataParallel.ReduceDtypeOf(fromDeepSpeed.ReduceDtype, fromDeepSpeed.Precision)));
        Assert.Equal((AutocastReduce.Compute, ScalarType.BFloat16), (fromFsdp.ReduceDtype, DataParallel.ReduceDtypeOf(fromFsdp.ReduceDtype, fromFsdp.Precision)));
        Assert.False(DeepSpeedPrecision.Write(fromDeepSpeed).ContainsKey("communication_data_type"));
        Assert.Equal("MixedPrecision(param_dtype=torch.bfloat16)", FsdpMixedPrecision.From(fromFsdp).ToString());
    }

    [Fact]
    public void An_undefined_reduce_setting_is_an_error_naming_the_field_on_write()
    {
        var policy = new TrainingPrecision(Precision.BF16) { ReduceDtype = (AutocastReduce)9 };
        Assert.Equal("communication_data_type", Assert.Throws<PolicyFormatException>(() => DeepSpeedPrecision.Write(policy)).Field);
        Assert.Equal("reduce_dtype", Assert.Throws<PolicyFormatException>(() => FsdpMixedPrecision.From(policy)).Field);
    }
}
