using System;
using System.Collections.Generic;
using PrecisionPolicy.Scaling;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Scaling;

/// <summary><see cref="GradScaler.state_dict"/> and <see cref="GradScaler.load_state_dict"/> with PyTorch's keys.</summary>
public sealed class GradScalerStateDictTests : IDisposable
{
    private readonly DisposeScope scope = NewDisposeScope();

    public void Dispose() => scope.Dispose();

    [Fact]
    public void The_state_dict_has_pytorchs_keys_and_values()
    {
        var loop = new GradScalerTests.Loop(new GradScaler(GradScalerTests.Interval2 with { GrowthFactor = 4, BackoffFactor = 0.25 }));
        loop.Iterate(overflow: false);
        var state = loop.Scaler.state_dict();
        Assert.Equal(
            new Dictionary<string, object> { ["scale"] = 1024.0, ["growth_factor"] = 4.0, ["backoff_factor"] = 0.25, ["growth_interval"] = 2, ["_growth_tracker"] = 1 },
            state);
    }

    [Fact]
    public void A_loaded_state_dict_continues_the_same_scale_sequence()
    {
        var pattern = new[] { false, true, false, false, false, true, false, false };
        var original = new GradScalerTests.Loop(new GradScaler(GradScalerTests.Interval2));
        original.Iterate(overflow: false);
        var copy = new GradScalerTests.Loop(new GradScaler());
        copy.Scaler.load_state_dict(original.Scaler.state_dict());
        Assert.Equal(original.Scaler.state_dict(), copy.Scaler.state_dict());
        foreach (var overflow in pattern)
        {
            original.Iterate(overflow);
            copy.Iterate(overflow);
            Assert.Equal(original.Scaler.GetScale(), copy.Scaler.GetScale());
        }
        Assert.Equal(original.Scaler.state_dict(), copy.Scaler.state_dict());
    }

    [Fact]
    public void Numbers_pytorch_reads_back_as_other_types_are_accepted()
    {
        var scaler = new GradScaler();
        scaler.load_state_dict(new Dictionary<string, object>
        {
            ["scale"] = 32768f, ["growth_factor"] = 2, ["backoff_factor"] = 0.5, ["growth_interval"] = 100L, ["_growth_tracker"] = 7L,
        });
        Assert.Equal((32768.0, 2.0, 100, 7), (scaler.GetScale(), scaler.Options.GrowthFactor, scaler.Options.GrowthInterval, scaler.State.GrowthTracker));
    }

    public static IEnumerable<object[]> BadStateDicts()
    {
        Dictionary<string, object> Valid() => new() { ["scale"] = 8.0, ["growth_factor"] = 2.0, ["backoff_factor"] = 0.5, ["growth_interval"] = 10, ["_growth_tracker"] = 3 };
        Dictionary<string, object> With(string key, object value) { var d = Valid(); d[key] = value; return d; }
        Dictionary<string, object> Without(string key) { var d = Valid(); d.Remove(key); return d; }
        yield return new object[] { new Dictionary<string, object>(), "empty" };
        yield return new object[] { Without("_growth_tracker"), "lacks '_growth_tracker'" };
        yield return new object[] { With("hysteresis", 2), "has 'hysteresis'" };
        yield return new object[] { With("scale", "8"), "not a number" };
        yield return new object[] { With("growth_interval", 2.5), "not an integer" };
        yield return new object[] { With("scale", -1.0), "out of range" };
        yield return new object[] { With("scale", 1e39), "out of range" };
        yield return new object[] { With("backoff_factor", 2.0), "BackoffFactor" };
        yield return new object[] { With("growth_interval", 0), "GrowthInterval" };
        yield return new object[] { With("_growth_tracker", -1), "from 0" };
        yield return new object[] { With("_growth_tracker", 10), "below its growth_interval" };
    }

    [Theory]
    [MemberData(nameof(BadStateDicts))]
    public void A_bad_state_dict_is_a_clear_error_and_changes_nothing(Dictionary<string, object> bad, string expected)
    {
        var loop = new GradScalerTests.Loop(new GradScaler(GradScalerTests.Interval2));
        loop.Iterate(overflow: false);
        var before = loop.Scaler.state_dict();
        var options = loop.Scaler.Options;
        var error = Assert.Throws<ArgumentException>(() => loop.Scaler.load_state_dict(bad));
        Assert.Contains(expected, error.Message);
        Assert.Equal(before, loop.Scaler.state_dict());
        Assert.Same(options, loop.Scaler.Options);
    }

    [Fact]
    public void A_disabled_scaler_ignores_a_state_dict_as_pytorch_does()
    {
        var scaler = new GradScaler(LossScalerOptions.Off);
        scaler.load_state_dict(new Dictionary<string, object> { ["scale"] = 8.0 });
        Assert.Equal(1.0, scaler.GetScale());
    }
}
