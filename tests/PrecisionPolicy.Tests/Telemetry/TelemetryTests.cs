using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Scaling;
using PrecisionPolicy.Telemetry;
using PrecisionPolicy.Tests.Optimization;
using PrecisionPolicy.Tests.Scaling;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Telemetry;

/// <summary>Skipped steps, scale changes and gradient statistics on the PrecisionPolicy meter and the optional logger.</summary>
public sealed class TelemetryTests : IDisposable
{
    private readonly DisposeScope scope = NewDisposeScope();
    private readonly TelemetryRecorder recorder = new();

    public void Dispose()
    {
        recorder.Dispose();
        scope.Dispose();
    }

    [Fact]
    public void The_meter_is_named_precisionpolicy_and_every_instrument_has_a_unit_and_a_description()
    {
        _ = new GradScaler(meterFactory: recorder);
        Assert.All(recorder.Instruments, i => Assert.Equal(PrecisionPolicyTelemetry.MeterName, i.Meter.Name));
        var units = recorder.Instruments.ToDictionary(i => i.Name, i => i.Unit);
        Assert.Equal(new Dictionary<string, string?>
        {
            [PrecisionPolicyTelemetry.StepsApplied] = "{step}",
            [PrecisionPolicyTelemetry.StepsSkipped] = "{step}",
            [PrecisionPolicyTelemetry.LossScaleChanges] = "{change}",
            [PrecisionPolicyTelemetry.LossScale] = "1",
            [PrecisionPolicyTelemetry.GradientNorm] = "1",
            [PrecisionPolicyTelemetry.GradientZeroFraction] = "1",
            [PrecisionPolicyTelemetry.GradientMaxAbs] = "1",
        }, units);
        Assert.All(recorder.Instruments, i => Assert.False(string.IsNullOrWhiteSpace(i.Description)));
    }

    [Fact]
    public void A_grad_scaler_publishes_steps_scale_changes_and_gradient_norms()
    {
        var logger = new CapturingLogger();
        var loop = new GradScalerTests.Loop(new GradScaler(GradScalerTests.Interval2, logger, recorder));
        foreach (var overflow in new[] { false, true, false, false }) loop.Iterate(overflow);

        Assert.Equal(new double[] { 1, 1, 1 }, recorder.Values(PrecisionPolicyTelemetry.StepsApplied));
        Assert.Equal(new double[] { 1 }, recorder.Values(PrecisionPolicyTelemetry.StepsSkipped));
        Assert.Equal(new double[] { 1024, 512, 512, 1024 }, recorder.Values(PrecisionPolicyTelemetry.LossScale));
        Assert.Equal(new double[] { 5, 5, 5 }, recorder.Values(PrecisionPolicyTelemetry.GradientNorm)); // |(3, 4)| after unscaling
        var changes = recorder.Measurements.Where(m => m.Name == PrecisionPolicyTelemetry.LossScaleChanges).Select(m => m.Tags[PrecisionPolicyTelemetry.DirectionTag]);
        Assert.Equal(new object?[] { "backoff", "grow" }, changes);
        Assert.All(recorder.Measurements, m => Assert.Equal("GradScaler", m.Tags[PrecisionPolicyTelemetry.ComponentTag]));

        Assert.Equal(
            new[] { (PrecisionPolicyTelemetry.StepSkippedEvent.Id, "StepSkipped"), (2, "LossScaleChanged"), (2, "LossScaleChanged") },
            logger.Entries.Select(e => (e.Id.Id, e.Id.Name!)));
        Assert.Contains("loss scale 1024", logger.Entries[0].Message);
        Assert.Contains("parameter 0 of the optimizer", logger.Entries[0].Message);
        Assert.Equal("Loss scale 1024 -> 512 (backoff).", logger.Entries[1].Message);
        Assert.Equal("Loss scale 512 -> 1024 (grow).", logger.Entries[2].Message);
    }

    [Fact]
    public void A_run_the_scaler_gives_up_on_is_logged_as_an_error_with_the_exception()
    {
        var logger = new CapturingLogger();
        var loop = new GradScalerTests.Loop(new GradScaler(GradScalerTests.Interval2 with { MaxConsecutiveSkips = 1 }, logger, recorder));
        var thrown = Assert.Throws<LossScaleException>(() => loop.Iterate(overflow: true));
        var stopped = logger.Entries.Single(e => e.Id == PrecisionPolicyTelemetry.ScalingStoppedEvent);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Error, stopped.Level);
        Assert.Same(thrown, stopped.Exception);
        Assert.Equal(new double[] { 512 }, recorder.Values(PrecisionPolicyTelemetry.LossScale));
    }

    [Fact]
    public void A_disabled_grad_scaler_counts_its_steps_and_records_no_scale()
    {
        var loop = new GradScalerTests.Loop(new GradScaler(LossScalerOptions.Off, meterFactory: recorder));
        loop.Iterate(overflow: true);
        Assert.Equal(new double[] { 1 }, recorder.Values(PrecisionPolicyTelemetry.StepsApplied));
        Assert.Empty(recorder.Values(PrecisionPolicyTelemetry.LossScale));
        Assert.Empty(recorder.Values(PrecisionPolicyTelemetry.GradientNorm));
    }

    [Fact]
    public void A_master_weight_optimizer_publishes_its_outcomes_and_gradient_statistics()
    {
        var logger = new CapturingLogger();
        var model = Fixtures.Mlp(ScalarType.BFloat16);
        var (x, y) = Fixtures.Regression(8, 16, 4, seed: 2);
        using var optimizer = new MasterWeightOptimizer(model, ps => optim.SGD(ps, 0.01), new MasterWeightOptions
        {
            Scaling = LossScalerOptions.Dynamic with { InitialScale = 256, GrowthInterval = 1 },
            TrackGradientStatistics = true, Logger = logger, MeterFactory = recorder,
        });
        var applied = optimizer.Step(nn.functional.mse_loss(model.call(x), y));
        var skipped = optimizer.Step(nn.functional.mse_loss(model.call(x), y) * float.PositiveInfinity);

        Assert.True(applied.Applied);
        Assert.False(skipped.Applied);
        Assert.Equal(new double[] { 1 }, recorder.Values(PrecisionPolicyTelemetry.StepsApplied));
        Assert.Equal(new double[] { 1 }, recorder.Values(PrecisionPolicyTelemetry.StepsSkipped));
        Assert.Equal(new[] { applied.GradNorm }, recorder.Values(PrecisionPolicyTelemetry.GradientNorm));
        Assert.Equal(new[] { applied.Gradients!.ZeroFraction }, recorder.Values(PrecisionPolicyTelemetry.GradientZeroFraction));
        Assert.Equal(new[] { applied.Gradients.MaxAbs }, recorder.Values(PrecisionPolicyTelemetry.GradientMaxAbs));
        Assert.Equal(new double[] { 512, 256 }, recorder.Values(PrecisionPolicyTelemetry.LossScale));
        Assert.All(recorder.Measurements, m => Assert.Equal("MasterWeightOptimizer", m.Tags[PrecisionPolicyTelemetry.ComponentTag]));
        Assert.Equal(new[] { 2, 1, 2 }, logger.Entries.Select(e => e.Id.Id));
        Assert.Contains(skipped.FirstNonFiniteParameter!, logger.Entries[1].Message);
    }
}
