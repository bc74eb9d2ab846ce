using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace PrecisionPolicy.Scaling;

// state_dict/load_state_dict keep TorchSharp's (and PyTorch's) spelling, as Module.state_dict and
// Optimizer.load_state_dict do, so a checkpointing loop ported from PyTorch reads the same.
#pragma warning disable IDE1006

public sealed partial class GradScaler
{
    private const string ScaleKey = "scale", GrowthFactorKey = "growth_factor", BackoffFactorKey = "backoff_factor";
    private const string GrowthIntervalKey = "growth_interval", GrowthTrackerKey = "_growth_tracker";
    private static readonly string[] StateKeys = { ScaleKey, GrowthFactorKey, BackoffFactorKey, GrowthIntervalKey, GrowthTrackerKey };

    /// <summary>
    /// The state PyTorch's <c>GradScaler.state_dict()</c> holds, under its keys: <c>scale</c>,
    /// <c>growth_factor</c>, <c>backoff_factor</c> (doubles), <c>growth_interval</c> and
    /// <c>_growth_tracker</c> (ints). Empty when disabled, as PyTorch's is.
    /// </summary>
    /// <remarks>
    /// Not kept, because PyTorch's dict has no place for them: the hysteresis left (refilled on load) and the
    /// skip counters of <see cref="State"/> (zero after a load).
    /// </remarks>
    public Dictionary<string, object> state_dict()
    {
        if (!IsEnabled) return new Dictionary<string, object>();
        return new Dictionary<string, object>
        {
            [ScaleKey] = scaler.Scale,
            [GrowthFactorKey] = Options.GrowthFactor,
            [BackoffFactorKey] = Options.BackoffFactor,
            [GrowthIntervalKey] = Options.GrowthInterval,
            [GrowthTrackerKey] = scaler.State.GrowthTracker,
        };
    }

    /// <summary>
    /// Continues from a dict written by <see cref="state_dict"/> (or by PyTorch's GradScaler, its values
    /// read into .NET numbers): the scale, growth tracker, factors and interval, whole or not at all.
    /// Nothing happens when this scaler is disabled (as in PyTorch). Steps unscaled since the last
    /// <see cref="Update"/> are forgotten.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// The dict is empty (saved from a disabled scaler), lacks a key, has a key PyTorch's does not, or a value
    /// that is not a number in range; this scaler is unchanged.
    /// </exception>
    public void load_state_dict(IReadOnlyDictionary<string, object> stateDict)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        if (!IsEnabled) return;
        if (stateDict.Count == 0)
            throw new ArgumentException("The state dict is empty: it was saved from a disabled GradScaler (LossScalingMode.Off), so it holds no scale to continue from.", nameof(stateDict));
        var missing = StateKeys.Where(k => !stateDict.ContainsKey(k)).ToArray();
        var unknown = stateDict.Keys.Where(k => !StateKeys.Contains(k, StringComparer.Ordinal)).ToArray();
        if (missing.Length > 0 || unknown.Length > 0)
            throw new ArgumentException(
                "The state dict is not a GradScaler's: " +
                string.Join("; ", new[]
                {
                    missing.Length > 0 ? $"it lacks {string.Join(", ", missing.Select(k => $"'{k}'"))}" : null,
                    unknown.Length > 0 ? $"it has {string.Join(", ", unknown.Select(k => $"'{k}'"))}, which GradScaler.state_dict() does not write" : null,
                }.Where(s => s is not null)) + $". Expected the keys {string.Join(", ", StateKeys)}.", nameof(stateDict));

        var scale = Number(stateDict, ScaleKey);
        var options = Options with
        {
            GrowthFactor = Number(stateDict, GrowthFactorKey),
            BackoffFactor = Number(stateDict, BackoffFactorKey),
            GrowthInterval = Integer(stateDict, GrowthIntervalKey),
        };
        var tracker = Integer(stateDict, GrowthTrackerKey);
        LossScaler loaded;
        try
        {
            options.Validate();
            loaded = new LossScaler(options);
            loaded.Restore(new LossScalerState((float)scale, tracker, options.Hysteresis, 0, 0, 0));
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"The state dict's values are out of range: {e.Message} This scaler is unchanged.", nameof(stateDict), e);
        }
        // A tracker at or past the interval would never again equal it: the scale would stop growing for good.
        if (tracker >= options.GrowthInterval)
            throw new ArgumentException(
                $"The state dict's _growth_tracker ({tracker}) must be below its growth_interval ({options.GrowthInterval}). This scaler is unchanged.", nameof(stateDict));

        var previous = scaler.Scale;
        scaler = loaded;
        steps.Clear();
        telemetry.ScaleUpdated(previous, scaler.Scale, set: true);
    }

    private static double Number(IReadOnlyDictionary<string, object> dict, string key) => dict[key] switch
    {
        double d => d,
        float f => f,
        int i => i,
        long l => l,
        var other => throw new ArgumentException($"The state dict's '{key}' is {Describe(other)}, not a number.", "stateDict"),
    };

    private static int Integer(IReadOnlyDictionary<string, object> dict, string key)
    {
        var value = dict[key] switch
        {
            int i => i,
            long l => l,
            var other => throw new ArgumentException($"The state dict's '{key}' is {Describe(other)}, not an integer.", "stateDict"),
        };
        if (value is < 0 or > int.MaxValue)
            throw new ArgumentException($"The state dict's '{key}' is {value}: it must be an integer from 0 to {int.MaxValue}.", "stateDict");
        return (int)value;
    }

    private static string Describe(object? value) =>
        value is null ? "null" : $"{Convert.ToString(value, CultureInfo.InvariantCulture)} ({value.GetType().Name})";
}
