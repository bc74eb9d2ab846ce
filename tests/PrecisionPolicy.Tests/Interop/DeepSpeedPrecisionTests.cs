using System;
using PrecisionPolicy.Interop;
using PrecisionPolicy.Scaling;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Interop;

public sealed class DeepSpeedPrecisionTests
{
    // DeepSpeed's documented fp16 block (docs/config-json, deepspeed/runtime/constants.py FP16_FORMAT),
    // every value its default.
    private const string PublishedFp16 = """
        {
          "train_batch_size": 32,
          "fp16": {
            "enabled": true,
            "auto_cast": false,
            "loss_scale": 0,
            "initial_scale_power": 16,
            "loss_scale_window": 1000,
            "hysteresis": 2,
            "consecutive_hysteresis": false,
            "min_loss_scale": 1
          },
          "zero_optimization": { "stage": 2 }
        }
        """;

    [Fact]
    public void The_published_fp16_block_is_dynamic_scaling_from_2_to_the_16()
    {
        var policy = DeepSpeedPrecision.Read(PublishedFp16);
        Assert.Equal(Precision.FP16, policy.Precision);
        Assert.Equal(ScalarType.Float16, policy.ComputeDtype);
        Assert.Equal(AutocastReduce.Compute, policy.ReduceDtype);
        var s = policy.Scaling;
        Assert.Equal((LossScalingMode.Dynamic, 65536.0, 1000, 2, 1.0, 2.0, 0.5), (s.Mode, s.InitialScale, s.GrowthInterval, s.Hysteresis, s.MinScale, s.GrowthFactor, s.BackoffFactor));
        Assert.Equal(double.PositiveInfinity, s.MaxScale);
    }

    [Fact]
    public void Omitted_fp16_settings_take_deepspeeds_defaults()
    {
        var s = DeepSpeedPrecision.Read("""{ "fp16": { "enabled": true } }""").Scaling;
        Assert.Equal((65536.0, 1000, 2, 1.0), (s.InitialScale, s.GrowthInterval, s.Hysteresis, s.MinScale));
        Assert.Equal((16, 1000, 2, 1.0), (DeepSpeedPrecision.DefaultInitialScalePower, DeepSpeedPrecision.DefaultLossScaleWindow, DeepSpeedPrecision.DefaultHysteresis, DeepSpeedPrecision.DefaultMinLossScale));
    }

    [Fact]
    public void A_nonzero_loss_scale_is_static()
    {
        var s = DeepSpeedPrecision.Read("""{ "fp16": { "enabled": true, "loss_scale": 128 } }""").Scaling;
        Assert.Equal((LossScalingMode.Static, 128.0), (s.Mode, s.InitialScale));
    }

    [Fact]
    public void Bf16_and_communication_data_type()
    {
        var policy = DeepSpeedPrecision.Read("""{ "bf16": { "enabled": true }, "communication_data_type": "FP32" }""");
        Assert.Equal((Precision.BF16, LossScalingMode.Off, AutocastReduce.Float32), (policy.Precision, policy.Scaling.Mode, policy.ReduceDtype));
        Assert.Equal(Precision.BF16, DeepSpeedPrecision.Read("""{ "bfloat16": { "enabled": true } }""").Precision); // the older section name
        // The documented bf16 block (BFLOAT16_FORMAT) with its optimizer settings.
        Assert.Equal(Precision.BF16, DeepSpeedPrecision.Read("""{ "bf16": { "enabled": true, "immediate_grad_update": false, "check_grad_overflow": false } }""").Precision);
        Assert.Equal(Precision.FP32, DeepSpeedPrecision.Read("""{ "train_batch_size": 8 }""").Precision);
    }

    [Theory]
    [InlineData("""{ "fp16": { "enabled": true, "loss_scale": 0, "initial_scale_power": 12, "loss_scale_window": 500, "hysteresis": 4, "min_loss_scale": 0.25 } }""")]
    [InlineData("""{ "fp16": { "enabled": true, "loss_scale": 1024 }, "communication_data_type": "fp16" }""")]
    [InlineData("""{ "bf16": { "enabled": true }, "communication_data_type": "bf16" }""")]
    [InlineData("""{ "fp16": { "enabled": false }, "bf16": { "enabled": false } }""")]
    public void Written_back_the_policy_reads_the_same_and_the_text_is_stable(string json)
    {
        var policy = DeepSpeedPrecision.Read(json);
        var written = DeepSpeedPrecision.Format(policy);
        Assert.Equal(policy, DeepSpeedPrecision.Read(written));
        Assert.Equal(written, DeepSpeedPrecision.Format(DeepSpeedPrecision.Read(written)));
    }

    [Fact]
    public void The_runtimes_dynamic_scaling_round_trips_once_uncapped()
    {
        // DeepSpeed's scaler has no ceiling: the runtime's dynamic defaults (2^16, window 2000) without one.
        var policy = new TrainingPrecision(Precision.FP16) { Scaling = LossScalerOptions.Dynamic with { MaxScale = double.PositiveInfinity }, ReduceDtype = AutocastReduce.Float32 };
        Assert.Equal(policy, DeepSpeedPrecision.Read(DeepSpeedPrecision.Format(policy)));
    }

    [Fact]
    public void The_published_block_writes_back_with_its_values()
    {
        var fp16 = DeepSpeedPrecision.Write(DeepSpeedPrecision.Read(PublishedFp16))["fp16"]!;
        Assert.Equal((true, 0.0, 16, 1000, 2, 1.0),
            (fp16["enabled"]!.GetValue<bool>(), fp16["loss_scale"]!.GetValue<int>() * 1.0, fp16["initial_scale_power"]!.GetValue<int>(),
             fp16["loss_scale_window"]!.GetValue<int>(), fp16["hysteresis"]!.GetValue<int>(), fp16["min_loss_scale"]!.GetValue<double>()));
    }

    [Theory]
    [InlineData("""{ "fp16": { "enabled": true, "hysteresis": 0 } }""", "fp16.hysteresis")]
    [InlineData("""{ "fp16": { "enabled": true, "loss_scale_window": 2.5 } }""", "fp16.loss_scale_window")]
    [InlineData("""{ "fp16": { "enabled": true, "loss_scale": -1 } }""", "fp16.loss_scale")]
    [InlineData("""{ "fp16": { "enabled": true, "min_loss_scale": -1 } }""", "fp16.min_loss_scale")]
    [InlineData("""{ "fp16": { "enabled": true, "initial_scale_power": 128 } }""", "fp16.initial_scale_power")]
    [InlineData("""{ "fp16": { "enabled": true, "initial_scale_power": 2, "min_loss_scale": 8 } }""", "fp16.initial_scale_power")]
    [InlineData("""{ "fp16": { "enabled": "auto" } }""", "fp16.enabled")]
    [InlineData("""{ "fp16": { "enabled": 1 } }""", "fp16.enabled")]
    [InlineData("""{ "fp16": { "enabled": true, "consecutive_hysteresis": true } }""", "fp16.consecutive_hysteresis")]
    [InlineData("""{ "fp16": { "enabled": true, "los_scale": 0 } }""", "fp16.los_scale")]
    [InlineData("""{ "fp16": { "enabled": true }, "bf16": { "enabled": true } }""", "fp16.enabled")]
    [InlineData("""{ "bf16": true }""", "bf16")]
    [InlineData("""{ "bf16": { "enabled": true, "loss_scale": 0 } }""", "bf16.loss_scale")]
    [InlineData("""{ "communication_data_type": "fp8" }""", "communication_data_type")]
    [InlineData("""{ "fp16": { "enabled": true, """, "config")]
    public void Bad_values_are_errors_naming_the_field(string json, string field)
    {
        var e = Assert.Throws<PolicyFormatException>(() => DeepSpeedPrecision.Read(json));
        Assert.Equal(field, e.Field);
        Assert.StartsWith("DeepSpeed " + field, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Policies_deepspeed_cannot_express_are_errors_on_write()
    {
        Assert.Equal("fp16/bf16", Assert.Throws<PolicyFormatException>(() => DeepSpeedPrecision.Write(new TrainingPrecision(Precision.FP8))).Field);
        var growth3 = new TrainingPrecision(Precision.FP16) { Scaling = new LossScalerOptions { GrowthFactor = 3, MaxScale = double.PositiveInfinity } };
        Assert.Equal("fp16", Assert.Throws<PolicyFormatException>(() => DeepSpeedPrecision.Write(growth3)).Field);
        var notPowerOfTwo = new TrainingPrecision(Precision.FP16) { Scaling = new LossScalerOptions { InitialScale = 1000, MaxScale = double.PositiveInfinity } };
        Assert.Equal("fp16.initial_scale_power", Assert.Throws<PolicyFormatException>(() => DeepSpeedPrecision.Write(notPowerOfTwo)).Field);
        var scaledBf16 = new TrainingPrecision(Precision.BF16) { Scaling = LossScalerOptions.Dynamic };
        Assert.Equal("bf16", Assert.Throws<PolicyFormatException>(() => DeepSpeedPrecision.Write(scaledBf16)).Field);
    }
}
