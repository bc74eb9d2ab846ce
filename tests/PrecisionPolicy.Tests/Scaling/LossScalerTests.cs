using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace PrecisionPolicy.Tests.Scaling;

public sealed class LossScalerTests
{
    private static List<double> Run(LossScaler scaler, IEnumerable<bool> overflows)
    {
        var scales = new List<double>();
        foreach (var overflow in overflows)
        {
            scaler.Update(overflow);
            scales.Add(scaler.Scale);
        }
        return scales;
    }

    [Fact]
    public void Defaults_are_pytorch_gradscaler()
    {
        var scaler = new LossScaler();
        Assert.Equal(65536.0, scaler.Scale);
        Assert.Equal(2000, scaler.Options.GrowthInterval);
        Assert.Equal(2.0, scaler.Options.GrowthFactor);
        Assert.Equal(0.5, scaler.Options.BackoffFactor);
    }

    [Fact]
    public void Scale_grows_exactly_at_step_2000_and_again_at_4000()
    {
        var scales = Run(new LossScaler(), Enumerable.Repeat(false, 4000));
        Assert.All(scales.Take(1999), s => Assert.Equal(65536.0, s));
        Assert.Equal(131072.0, scales[1999]);
        Assert.All(scales.Skip(2000).Take(1999), s => Assert.Equal(131072.0, s));
        Assert.Equal(262144.0, scales[3999]);
    }

    [Fact]
    public void Overflow_halves_the_scale_and_resets_the_growth_tracker()
    {
        var options = LossScalerOptions.Dynamic with { GrowthInterval = 3 };
        // clean, clean, overflow, clean, clean, clean(grow), overflow
        var scales = Run(new LossScaler(options), new[] { false, false, true, false, false, false, true });
        Assert.Equal(new[] { 65536.0, 65536.0, 32768.0, 32768.0, 32768.0, 65536.0, 32768.0 }, scales);
    }

    [Fact]
    public void Hysteresis_tolerates_overflows_before_backing_off_and_refills_on_growth()
    {
        var options = LossScalerOptions.Dynamic with { GrowthInterval = 2, Hysteresis = 2 };
        // overflow (tolerated), overflow (backoff), overflow (backoff: hysteresis stays used up),
        // clean, clean (grow: refills), overflow (tolerated), overflow (backoff)
        var scales = Run(new LossScaler(options), new[] { true, true, true, false, false, true, true });
        Assert.Equal(new[] { 65536.0, 32768.0, 16384.0, 16384.0, 32768.0, 32768.0, 16384.0 }, scales);
    }

    [Fact]
    public void Growth_is_capped_by_max_scale()
    {
        var options = LossScalerOptions.Dynamic with { InitialScale = 4, GrowthInterval = 1, MaxScale = 16 };
        Assert.Equal(new[] { 8.0, 16.0, 16.0 }, Run(new LossScaler(options), new[] { false, false, false }));
    }

    [Fact]
    public void Backoff_stops_at_min_scale_then_an_overflow_there_is_an_error()
    {
        var options = LossScalerOptions.Dynamic with { InitialScale = 8, MinScale = 2 };
        var scaler = new LossScaler(options);
        Assert.Equal(new[] { 4.0, 2.0 }, Run(scaler, new[] { true, true }));
        var error = Assert.Throws<LossScaleException>(() => scaler.Update(true));
        Assert.Contains("minimum loss scale 2", error.Message);
        Assert.Equal(2.0, scaler.Scale);
        Assert.Equal(3, scaler.State.ConsecutiveSkips);
    }

    [Fact]
    public void Static_scaling_never_moves_and_gives_up_after_max_consecutive_skips()
    {
        var scaler = new LossScaler(LossScalerOptions.Static(128) with { MaxConsecutiveSkips = 3 });
        Assert.Equal(new[] { 128.0, 128.0, 128.0 }, Run(scaler, new[] { false, true, true }));
        Assert.Throws<LossScaleException>(() => scaler.Update(true));
    }

    [Fact]
    public void A_clean_step_resets_the_consecutive_skip_count()
    {
        var scaler = new LossScaler(LossScalerOptions.Off with { MaxConsecutiveSkips = 2 });
        Run(scaler, new[] { true, false, true, false, true });
        Assert.Equal(3, scaler.State.TotalSkips);
        Assert.Equal(1, scaler.State.ConsecutiveSkips);
        Assert.Equal(1.0, scaler.Scale);
    }

    [Fact]
    public void Restored_state_continues_the_same_sequence()
    {
        var options = LossScalerOptions.Dynamic with { GrowthInterval = 3, Hysteresis = 2 };
        var pattern = new[] { false, true, false, false, true, true, false, false, false, true, false };
        var uninterrupted = Run(new LossScaler(options), pattern);

        var first = new LossScaler(options);
        Run(first, pattern.Take(5));
        var second = new LossScaler(options);
        second.Restore(first.State);
        var resumed = Run(second, pattern.Skip(5));
        Assert.Equal(uninterrupted.Skip(5), resumed);
    }

    [Theory]
    [InlineData(0.0, 2.0, 0.5)]
    [InlineData(65536.0, 0.5, 0.5)]
    [InlineData(65536.0, 2.0, 1.0)]
    [InlineData(double.NaN, 2.0, 0.5)]
    public void Invalid_options_are_rejected_with_the_setting_named(double initial, double growth, double backoff)
    {
        var options = LossScalerOptions.Dynamic with { InitialScale = initial, GrowthFactor = growth, BackoffFactor = backoff };
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new LossScaler(options));
        Assert.Contains("LossScalerOptions.", error.Message);
    }

    [Fact]
    public void Off_mode_has_scale_one_whatever_the_initial_scale()
    {
        var scaler = new LossScaler(LossScalerOptions.Off with { InitialScale = 1024 });
        Assert.False(scaler.Enabled);
        Assert.Equal(1.0, scaler.Scale);
    }
}
