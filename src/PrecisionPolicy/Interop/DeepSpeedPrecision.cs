using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.Json.Nodes;
using System.Text.Json;
using System;
using PrecisionPolicy.Scaling;
using static TorchSharp.torch;

namespace PrecisionPolicy.Interop;

/// <summary>
/// Reads and writes the precision part of a DeepSpeed config: the <c>fp16</c> and <c>bf16</c>
/// sections and <c>communication_data_type</c> (deepspeed/runtime/constants.py; docs/config-json).
/// Other keys of the config are ignored on read and not written.
/// </summary>
/// <remarks>
/// DeepSpeed's dynamic scaler multiplies and divides by a fixed factor of 2, has no ceiling, and
/// refills hysteresis when the scale grows (<c>consecutive_hysteresis: false</c>): a policy whose
/// scaling differs is an error on write, and those settings are an error on read.
/// </remarks>
public static class DeepSpeedPrecision
{
    private const string FormatName = "DeepSpeed";

    /// <summary>DeepSpeed's default <c>initial_scale_power</c>: the dynamic scale starts at 2^16.</summary>
    public const int DefaultInitialScalePower = 16;
    /// <summary>DeepSpeed's default <c>loss_scale_window</c>: clean steps before the scale doubles.</summary>
    public const int DefaultLossScaleWindow = 1000;
    /// <summary>DeepSpeed's default <c>hysteresis</c> (<c>delayed_shift</c>): overflows tolerated before a backoff, counting the one that backs off.</summary>
    public const int DefaultHysteresis = 2;
    /// <summary>DeepSpeed's default <c>min_loss_scale</c>.</summary>
    public const double DefaultMinLossScale = 1.0;
    /// <summary>DeepSpeed's fixed <c>scale_factor</c> of its dynamic loss scaler.</summary>
    private const double ScaleFactor = 2.0;

    private static readonly string[] Fp16Keys = { "enabled", "auto_cast", "loss_scale", "initial_scale_power", "loss_scale_window", "hysteresis", "consecutive_hysteresis", "min_loss_scale", "fp16_master_weights_and_grads" };
    // immediate_grad_update and check_(grad_)overflow tune DeepSpeed's BF16 optimizer, not the
    // precision: accepted and not carried (this runtime checks every step's gradients for inf/NaN).
    private static readonly string[] Bf16Keys = { "enabled", "immediate_grad_update", "check_overflow", "check_grad_overflow" };

    private static readonly (string Name, AutocastReduce Reduce)[] CommunicationTypes =
    {
        ("fp32", AutocastReduce.Float32), ("fp16", AutocastReduce.Float16), ("bf16", AutocastReduce.BFloat16),
    };

    /// <summary>Reads the precision policy of a DeepSpeed config (the whole config or just its precision keys).</summary>
    public static TrainingPrecision Read(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new PolicyFormatException(FormatName, "config", $"is not valid JSON ({e.Message}).");
        }
        using (document) return Read(document.RootElement);
    }

    /// <summary>Reads the precision policy of a parsed DeepSpeed config.</summary>
    public static TrainingPrecision Read(JsonElement config)
    {
        if (config.ValueKind != JsonValueKind.Object)
            throw new PolicyFormatException(FormatName, "config", $"must be a JSON object (was {config.ValueKind}).");

        var fp16 = Section(config, "fp16", Fp16Keys);
        // "bfloat16" is DeepSpeed's older spelling of the section, still accepted by it.
        var bf16 = Section(config, "bf16", Bf16Keys);
        var bf16Old = Section(config, "bfloat16", Bf16Keys);
        if (bf16 is not null && bf16Old is not null)
            throw new PolicyFormatException(FormatName, "bfloat16", "is the old name of the bf16 section: give one of them, not both.");
        var bf16Name = bf16 is not null ? "bf16" : "bfloat16";
        bf16 ??= bf16Old;

        var fp16On = fp16 is { } f && Bool(f, "fp16", "enabled", false);
        var bf16On = bf16 is { } b && Bool(b, bf16Name, "enabled", false);
        if (fp16On && bf16On)
            throw new PolicyFormatException(FormatName, "fp16.enabled", $"and {bf16Name}.enabled are both true: enable one of them.");

        var reduce = CommunicationType(config);
        if (fp16On) return ReadFp16(fp16!.Value) with { ReduceDtype = reduce };
        return new TrainingPrecision(bf16On ? Precision.BF16 : Precision.FP32) { Scaling = LossScalerOptions.Off, ReduceDtype = reduce };
    }

    /// <summary>
    /// The precision keys of a DeepSpeed config for <paramref name="policy"/>: <c>fp16</c> and <c>bf16</c>
    /// (the unused one disabled, so merging into an existing config switches it off) and, when set,
    /// <c>communication_data_type</c>. DeepSpeed has no output or buffer dtype: those are not written.
    /// </summary>
    public static JsonObject Write(TrainingPrecision policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.Precision == Precision.FP8)
            throw new PolicyFormatException(FormatName, "fp16/bf16", "cannot express FP8 training (DeepSpeed runs FP8 through TransformerEngine, not these sections).");
        if (policy.ParamDtype != ScalarType.Float32)
            throw new PolicyFormatException(FormatName, "fp16/bf16", $"DeepSpeed keeps float32 masters; a {policy.ParamDtype} parameter dtype (pure low-precision training) has no setting.");

        var config = new JsonObject();
        if (policy.Precision == Precision.FP16)
        {
            config["fp16"] = Fp16Section(policy.Scaling);
            config["bf16"] = new JsonObject { ["enabled"] = false };
        }
        else
        {
            if (policy.Scaling.Mode != LossScalingMode.Off)
                throw new PolicyFormatException(FormatName, policy.Precision == Precision.BF16 ? "bf16" : "fp16.enabled",
                    $"{policy.Precision} with {policy.Scaling.Mode} loss scaling: DeepSpeed scales the loss only in its fp16 section.");
            config["fp16"] = new JsonObject { ["enabled"] = false };
            config["bf16"] = new JsonObject { ["enabled"] = policy.Precision == Precision.BF16 };
        }
        // AutocastReduce.Compute is DeepSpeed's default (the gradients' dtype): the key is left out.
        if (policy.ReduceDtype != AutocastReduce.Compute)
        {
            var name = CommunicationTypes.Where(c => c.Reduce == policy.ReduceDtype).Select(c => c.Name).FirstOrDefault()
                ?? throw new PolicyFormatException(FormatName, "communication_data_type", $"{policy.ReduceDtype} is not one of fp32, fp16, bf16.");
            config["communication_data_type"] = name;
        }
        return config;
    }

    /// <summary><see cref="Write"/> as indented JSON text.</summary>
    public static string Format(TrainingPrecision policy) =>
        Write(policy).ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    private static TrainingPrecision ReadFp16(JsonElement section)
    {
        if (Bool(section, "fp16", "auto_cast", false))
            throw new PolicyFormatException(FormatName, "fp16.auto_cast", "true is not supported: casts here come from the [Autocast] policy per op; set it to false.");
        if (Bool(section, "fp16", "fp16_master_weights_and_grads", false))
            throw new PolicyFormatException(FormatName, "fp16.fp16_master_weights_and_grads", "true (FP16 masters) is not supported: masters are float32 here; set it to false.");
        if (Bool(section, "fp16", "consecutive_hysteresis", false))
            throw new PolicyFormatException(FormatName, "fp16.consecutive_hysteresis", "true is not supported: hysteresis here refills when the scale grows (DeepSpeed's default, false).");

        var lossScale = Number(section, "loss_scale", 0);
        if (!(lossScale >= 0) || !double.IsFinite(lossScale))
            throw new PolicyFormatException(FormatName, "fp16.loss_scale", $"must be 0 (dynamic) or a finite static scale > 0 (was {lossScale.ToString(CultureInfo.InvariantCulture)}).");
        if (lossScale > 0)
            return new TrainingPrecision(Precision.FP16) { Scaling = LossScalerOptions.Static(lossScale) };

        // The scale is held in float32: its normal range is 2^-126 .. 2^127.
        var power = Integer(section, "initial_scale_power", DefaultInitialScalePower, min: -126, max: 127);
        var window = Integer(section, "loss_scale_window", DefaultLossScaleWindow, min: 1, max: int.MaxValue);
        var hysteresis = Integer(section, "hysteresis", DefaultHysteresis, min: 1, max: int.MaxValue);
        var minScale = Number(section, "min_loss_scale", DefaultMinLossScale);
        if (!(minScale >= 0) || !double.IsFinite(minScale))
            throw new PolicyFormatException(FormatName, "fp16.min_loss_scale", $"must be a finite number >= 0 (was {minScale.ToString(CultureInfo.InvariantCulture)}).");
        var initial = Math.Pow(2, power);
        if (initial < minScale)
            throw new PolicyFormatException(FormatName, "fp16.initial_scale_power", $"2^{power} is below min_loss_scale {minScale.ToString(CultureInfo.InvariantCulture)}.");

        var scaling = new LossScalerOptions
        {
            Mode = LossScalingMode.Dynamic,
            InitialScale = initial,
            GrowthFactor = ScaleFactor,
            BackoffFactor = 1 / ScaleFactor,
            GrowthInterval = window,
            Hysteresis = hysteresis,
            MinScale = minScale,
            MaxScale = double.PositiveInfinity, // DeepSpeed's dynamic scaler has no ceiling
        };
        try
        {
            scaling.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new PolicyFormatException(FormatName, FieldOf(e.ParamName), e.Message);
        }
        return new TrainingPrecision(Precision.FP16) { Scaling = scaling };
    }

    // The DeepSpeed field behind a LossScalerOptions setting the runtime's own validation refused.
    private static string FieldOf(string? option) => option switch
    {
        nameof(LossScalerOptions.InitialScale) => "fp16.initial_scale_power",
        nameof(LossScalerOptions.GrowthInterval) => "fp16.loss_scale_window",
        nameof(LossScalerOptions.Hysteresis) => "fp16.hysteresis",
        nameof(LossScalerOptions.MinScale) => "fp16.min_loss_scale",
        _ => "fp16",
    };

    private static JsonObject Fp16Section(LossScalerOptions scaling)
    {
        switch (scaling.Mode)
        {
            case LossScalingMode.Off:
                throw new PolicyFormatException(FormatName, "fp16.loss_scale", "FP16 without loss scaling has no DeepSpeed setting (0 means dynamic): use a static scale of 1.");
            case LossScalingMode.Static:
                return new JsonObject { ["enabled"] = true, ["loss_scale"] = scaling.InitialScale };
        }
        if (scaling.GrowthFactor != ScaleFactor || scaling.BackoffFactor != 1 / ScaleFactor)
            throw new PolicyFormatException(FormatName, "fp16", $"DeepSpeed grows and backs off by a factor of 2; growth {scaling.GrowthFactor} / backoff {scaling.BackoffFactor} has no setting.");
        if (!double.IsPositiveInfinity(scaling.MaxScale))
            throw new PolicyFormatException(FormatName, "fp16", $"DeepSpeed's dynamic scale has no ceiling; MaxScale {scaling.MaxScale} has no setting (use double.PositiveInfinity).");
        var power = Math.Log2(scaling.InitialScale);
        if (power != Math.Round(power))
            throw new PolicyFormatException(FormatName, "fp16.initial_scale_power", $"the initial scale {scaling.InitialScale} is not a power of two.");
        return new JsonObject
        {
            ["enabled"] = true,
            ["loss_scale"] = 0,
            ["initial_scale_power"] = (int)power,
            ["loss_scale_window"] = scaling.GrowthInterval,
            ["hysteresis"] = scaling.Hysteresis,
            ["min_loss_scale"] = scaling.MinScale,
        };
    }

    private static AutocastReduce CommunicationType(JsonElement config)
    {
        if (!config.TryGetProperty("communication_data_type", out var value) || value.ValueKind == JsonValueKind.Null) return AutocastReduce.Compute;
        if (value.ValueKind != JsonValueKind.String)
            throw new PolicyFormatException(FormatName, "communication_data_type", $"must be a string: fp32, fp16 or bf16 (was {value.ValueKind}).");
        var text = value.GetString()!;
        // DeepSpeed lower-cases the value before matching it.
        return CommunicationTypes.Where(c => c.Name == text.ToLowerInvariant()).Select(c => (AutocastReduce?)c.Reduce).FirstOrDefault()
            ?? throw new PolicyFormatException(FormatName, "communication_data_type", $"'{text}' is not one of fp32, fp16, bf16.");
    }

    private static JsonElement? Section(JsonElement config, string name, string[] keys)
    {
        if (!config.TryGetProperty(name, out var section)) return null;
        if (section.ValueKind != JsonValueKind.Object)
            throw new PolicyFormatException(FormatName, name, $"must be an object such as {{\"enabled\": true}} (was {section.ValueKind}).");
        foreach (var property in section.EnumerateObject())
        {
            if (!keys.Contains(property.Name, StringComparer.Ordinal))
                throw new PolicyFormatException(FormatName, name + "." + property.Name, $"is not a setting this reader knows; known: {string.Join(", ", keys)}.");
            if (property.Value.ValueKind == JsonValueKind.String && property.Value.GetString() == "auto")
                throw new PolicyFormatException(FormatName, name + "." + property.Name, "is \"auto\", a Hugging Face Trainer placeholder: resolve it to a value first.");
        }
        return section;
    }

    private static bool Bool(JsonElement section, string sectionName, string key, bool fallback)
    {
        if (!section.TryGetProperty(key, out var value)) return fallback;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new PolicyFormatException(FormatName, sectionName + "." + key, $"must be true or false (was {value.GetRawText()})."),
        };
    }

    private static double Number(JsonElement section, string key, double fallback)
    {
        if (!section.TryGetProperty(key, out var value)) return fallback;
        if (value.ValueKind != JsonValueKind.Number)
            throw new PolicyFormatException(FormatName, "fp16." + key, $"must be a number (was {value.GetRawText()}).");
        return value.GetDouble();
    }

    private static int Integer(JsonElement section, string key, int fallback, int min, int max)
    {
        var value = Number(section, key, fallback);
        if (value != Math.Round(value) || value < min || value > max)
            throw new PolicyFormatException(FormatName, "fp16." + key, $"must be an integer in [{min}, {max}] (was {value.ToString(CultureInfo.InvariantCulture)}).");
        return (int)value;
    }
}
