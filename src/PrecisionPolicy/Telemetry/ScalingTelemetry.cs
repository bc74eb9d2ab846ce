using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System;
using Microsoft.Extensions.Logging;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Scaling;

namespace PrecisionPolicy.Telemetry;

/// <summary>
/// What one scaler or optimizer publishes: metrics on the <see cref="PrecisionPolicyTelemetry.MeterName"/>
/// meter (the process-wide one, or the one an <see cref="IMeterFactory"/> gives) and, when a logger is
/// given, a log message per skipped step and scale change. Costs nothing measurable when no one listens:
/// an instrument without listeners drops its measurements, a null logger is never called.
/// </summary>
internal sealed class ScalingTelemetry
{
    private static readonly Lazy<Instruments> Shared = new(() => new Instruments(new Meter(PrecisionPolicyTelemetry.MeterName, Instruments.Version)));
    // A factory hands out one meter per name (and disposes it with the container); its instruments are made once per meter.
    private static readonly ConditionalWeakTable<Meter, Instruments> ByMeter = new();

    private static readonly Action<ILogger, string, double, Exception?> LogStepSkipped = LoggerMessage.Define<string, double>(
        LogLevel.Information, PrecisionPolicyTelemetry.StepSkippedEvent,
        "Skipped the optimizer step: a gradient held inf/NaN (first non-finite tensor: {FirstNonFinite}); loss scale {Scale}.");

    private static readonly Action<ILogger, double, double, string, Exception?> LogScaleChanged = LoggerMessage.Define<double, double, string>(
        LogLevel.Information, PrecisionPolicyTelemetry.LossScaleChangedEvent,
        "Loss scale {PreviousScale} -> {Scale} ({Direction}).");

    private static readonly Action<ILogger, string, Exception?> LogScalingStopped = LoggerMessage.Define<string>(
        LogLevel.Error, PrecisionPolicyTelemetry.ScalingStoppedEvent, "Loss scaling stopped the run: {Reason}");

    private readonly Instruments instruments;
    private readonly KeyValuePair<string, object?> component;
    private readonly ILogger? logger;

    public ScalingTelemetry(string componentName, ILogger? logger, IMeterFactory? meterFactory)
    {
        component = new(PrecisionPolicyTelemetry.ComponentTag, componentName);
        this.logger = logger;
        instruments = meterFactory is null
            ? Shared.Value
            : ByMeter.GetValue(meterFactory.Create(new MeterOptions(PrecisionPolicyTelemetry.MeterName) { Version = Instruments.Version }), static m => new Instruments(m));
    }

    /// <summary>The meter measurements go to.</summary>
    public Meter Meter => instruments.Meter;

    public void StepApplied(double gradientNorm, GradientStatistics? statistics)
    {
        instruments.Applied.Add(1, component);
        if (double.IsFinite(gradientNorm)) instruments.Norm.Record(gradientNorm, component);
        if (statistics is null) return;
        instruments.ZeroFraction.Record(statistics.ZeroFraction, component);
        instruments.MaxAbs.Record(statistics.MaxAbs, component);
    }

    public void StepSkipped(double scale, string? firstNonFinite)
    {
        instruments.Skipped.Add(1, component);
        if (logger is not null && logger.IsEnabled(LogLevel.Information)) LogStepSkipped(logger, firstNonFinite ?? "not reported", scale, null);
    }

    /// <summary>Records the scale after an update, and the change when there was one.</summary>
    public void ScaleUpdated(double previous, double scale, bool set = false)
    {
        instruments.Scale.Record(scale, component);
        if (scale == previous) return;
        var direction = set ? "set" : scale > previous ? "grow" : "backoff";
        instruments.Changes.Add(1, component, new KeyValuePair<string, object?>(PrecisionPolicyTelemetry.DirectionTag, direction));
        if (logger is not null && logger.IsEnabled(LogLevel.Information)) LogScaleChanged(logger, previous, scale, direction, null);
    }

    public void ScalingStopped(LossScaleException error)
    {
        if (logger is not null) LogScalingStopped(logger, error.Message, error);
    }

    private sealed class Instruments
    {
        public static readonly string? Version = typeof(Instruments).Assembly.GetName().Version?.ToString(3);

        public Instruments(Meter meter)
        {
            Meter = meter;
            Applied = meter.CreateCounter<long>(PrecisionPolicyTelemetry.StepsApplied, "{step}", "Optimizer steps applied: every gradient was finite.");
            Skipped = meter.CreateCounter<long>(PrecisionPolicyTelemetry.StepsSkipped, "{step}",
                "Optimizer steps skipped because a gradient held inf or NaN: parameters and optimizer state did not change, only the loss scale.");
            Changes = meter.CreateCounter<long>(PrecisionPolicyTelemetry.LossScaleChanges, "{change}", "Updates that changed the loss scale (grow, backoff or set).");
            Scale = meter.CreateHistogram<double>(PrecisionPolicyTelemetry.LossScale, "1", "The loss scale after each update.");
            Norm = meter.CreateHistogram<double>(PrecisionPolicyTelemetry.GradientNorm, "1", "L2 norm of the unscaled gradients of each applied step, before clipping.");
            ZeroFraction = meter.CreateHistogram<double>(PrecisionPolicyTelemetry.GradientZeroFraction, "1",
                "Fraction of unscaled gradient elements that are exactly zero (FP16 underflow), per applied step.");
            MaxAbs = meter.CreateHistogram<double>(PrecisionPolicyTelemetry.GradientMaxAbs, "1", "Largest absolute unscaled gradient, per applied step.");
        }

        public Meter Meter { get; }
        public Counter<long> Applied { get; }
        public Counter<long> Skipped { get; }
        public Counter<long> Changes { get; }
        public Histogram<double> Scale { get; }
        public Histogram<double> Norm { get; }
        public Histogram<double> ZeroFraction { get; }
        public Histogram<double> MaxAbs { get; }
    }
}
