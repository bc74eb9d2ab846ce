using System.Collections.Generic;
using System.Linq;
using System;
using PrecisionPolicy.Scaling;
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
    public void Defaults_are_pytorch_gradscaler_with_no_floor_and_no_ceiling()
    {
        var scaler = new LossScaler();
        Assert.Equal(65536.0, scaler.Scale);
        Assert.Equal(2000, scaler.Options.GrowthInterval);
        Assert.Equal(2.0, scaler.Options.GrowthFactor);
        Assert.Equal(0.5, scaler.Options.BackoffFactor);
        Assert.Equal(1, scaler.Options.Hysteresis);
        Assert.Equal(0.0, scaler.Options.MinScale);
        Assert.Equal(double.PositiveInfinity, scaler.Options.MaxScale);
    }

    [Fact]
    public void After_26000_clean_steps_the_default_scale_is_2_to_the_29_as_in_pytorch()
    {
        var scales = Run(new LossScaler(), Enumerable.Repeat(false, 26000));
        Assert.Equal(Math.Pow(2, 29), scales[^1]);
    }

    [Fact]
    public void Isolated_overflows_never_end_a_run_even_below_scale_1()
    {
        // 25 isolated overflows in one growth window (steps 40, 120, ..., 1960) take 2^16 to 2^-9;
        // PyTorch keeps going, and so must we: 2000 clean steps after the last one grow it to 2^-8.
        var pattern = Enumerable.Range(0, 2000).Select(i => i % 80 == 40).ToArray();
        var scaler = new LossScaler();
        var scales = Run(scaler, pattern.Concat(Enumerable.Repeat(false, 2000)));
        Assert.Equal(25, pattern.Count(o => o));
        Assert.Equal(Math.Pow(2, -9), scales[1999]);
        Assert.Equal(Math.Pow(2, -9), scales[3959]);
        Assert.Equal(Math.Pow(2, -8), scales[3960]);
        Assert.Equal(25, scaler.State.TotalSkips);
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
    public void Backoff_stops_at_min_scale_and_overflows_there_are_skipped_until_a_run_reaches_the_limit()
    {
        var options = LossScalerOptions.Dynamic with { InitialScale = 8, MinScale = 2, MaxConsecutiveSkips = 5 };
        var scaler = new LossScaler(options);
        Assert.Equal(new[] { 4.0, 2.0, 2.0, 2.0, 2.0 }, Run(scaler, new[] { true, true, true, false, true }));
        Assert.Equal(1, scaler.State.ConsecutiveSkips);
        for (var i = 0; i < 3; i++) scaler.Update(true, "fc2.weight");
        var error = Assert.Throws<LossScaleException>(() => scaler.Update(true, "fc1.bias"));
        Assert.Contains("5 steps in a row", error.Message);
        Assert.Contains("first non-finite tensor: 'fc2.weight'", error.Message); // the first of the run, not of the step that threw
        Assert.Contains("MaxConsecutiveSkips", error.Message);
        Assert.Equal(2.0, scaler.Scale);
        Assert.Equal(5, scaler.State.ConsecutiveSkips);
    }

    [Fact]
    public void Runs_one_short_of_the_limit_never_throw()
    {
        var scaler = new LossScaler(LossScalerOptions.Dynamic with { GrowthInterval = 1 });
        var run = Enumerable.Repeat(true, LossScalerOptions.DefaultMaxConsecutiveSkips - 1);
        var pattern = run.Append(false).Concat(run).Append(false).ToArray();
        Run(scaler, pattern);
        Assert.Equal(2 * (LossScalerOptions.DefaultMaxConsecutiveSkips - 1), scaler.State.TotalSkips);
        Assert.Throws<LossScaleException>(() => Run(scaler, Enumerable.Repeat(true, LossScalerOptions.DefaultMaxConsecutiveSkips)));
    }

    [Fact]
    public void Without_a_limit_the_scaler_skips_until_the_scale_leaves_float32_range()
    {
        var scaler = new LossScaler(LossScalerOptions.Dynamic with { MaxConsecutiveSkips = null });
        // 2^16 halves to 2^-149 (float32's smallest subnormal) in 165 steps; one more would be 0.
        Run(scaler, Enumerable.Repeat(true, 165));
        Assert.Equal(Math.Pow(2, -149), scaler.Scale);
        var error = Assert.Throws<LossScaleException>(() => scaler.Update(true));
        Assert.Contains("cannot back off further", error.Message);
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
