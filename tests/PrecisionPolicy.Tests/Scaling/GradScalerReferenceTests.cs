using System;
using System.Collections.Generic;
using PrecisionPolicy.Scaling;
using Xunit;

namespace PrecisionPolicy.Tests.Scaling;

/// <summary>
/// The scale sequence of <see cref="LossScaler"/> against PyTorch's update rule, for random
/// overflow patterns: the reference below is <c>_amp_update_scale_</c>
/// (aten/src/ATen/native/cpu/AmpGradScalerKernels.cpp, called by torch/amp/grad_scaler.py's
/// <c>update()</c>), with the scale held in float32 as PyTorch's scale tensor is.
/// </summary>
public sealed class GradScalerReferenceTests
{
    private sealed class TorchGradScaler(double initScale, double growthFactor, double backoffFactor, int growthInterval)
    {
        public float Scale = (float)initScale;
        public int GrowthTracker;

        public void Update(bool foundInf)
        {
            if (foundInf)
            {
                Scale = (float)(Scale * backoffFactor);
                GrowthTracker = 0;
                return;
            }
            var successful = GrowthTracker + 1;
            if (successful == growthInterval)
            {
                var grown = (float)(Scale * growthFactor);
                if (float.IsFinite(grown)) Scale = grown; // "Do not grow the scale past fp32 bounds to inf."
                GrowthTracker = 0;
            }
            else
            {
                GrowthTracker = successful;
            }
        }
    }

    public static IEnumerable<object[]> Cases()
    {
        var configs = new (double Init, double Growth, double Backoff, int Interval, double OverflowRate, int MaxBurst, bool Underflows)[]
        {
            (65536, 2.0, 0.5, 2000, 0.001, 8, false), // PyTorch's defaults, rare overflows
            (65536, 2.0, 0.5, 3, 0.05, 8, false),     // frequent growth and backoff
            (1, 2.0, 0.5, 1, 0.1, 8, false),          // grows every clean step up to float32's top
            (3e38, 2.0, 0.5, 2, 0.05, 1, false),      // near float32's top: growth must stop short of inf
            (1000, 1.5, 0.3, 4, 0.05, 1, false),      // factors that are not powers of two: float32 rounding shows
            (65536, 2.0, 0.5, 50, 0.3, 8, true),      // drifts down until the scale leaves float32's range
        };
        foreach (var c in configs)
            for (var seed = 1; seed <= 5; seed++)
                yield return new object[] { seed, c.Init, c.Growth, c.Backoff, c.Interval, c.OverflowRate, c.MaxBurst, c.Underflows };
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Scale_sequence_equals_pytorch_gradscaler_exactly(
        int seed, double init, double growth, double backoff, int interval, double overflowRate, int maxBurst, bool underflows)
    {
        var random = new Random(seed);
        var options = LossScalerOptions.Dynamic with
        {
            InitialScale = init, GrowthFactor = growth, BackoffFactor = backoff, GrowthInterval = interval,
            MaxConsecutiveSkips = null, // PyTorch never gives up; the run-length guard is tested on its own
        };
        var ours = new LossScaler(options);
        var torch = new TorchGradScaler(init, growth, backoff, interval);
        Assert.Equal((double)torch.Scale, ours.Scale);

        var steps = 0;
        var overflows = 0;
        while (steps < 5000)
        {
            // Bursts as well as isolated overflows: a burst of 1..maxBurst starts with the overflow rate.
            var burst = random.NextDouble() < overflowRate ? random.Next(1, maxBurst + 1) : 0;
            for (var i = 0; i < Math.Max(burst, 1); i++, steps++)
            {
                var overflow = burst > 0;
                overflows += overflow ? 1 : 0;
                torch.Update(overflow);
                if (torch.Scale == 0f)
                {
                    // PyTorch would go on at scale 0 (every gradient 0 · inf = NaN); ours stops with an error at that step.
                    Assert.Throws<LossScaleException>(() => ours.Update(overflow));
                    Assert.True(underflows, $"the scale left float32's range at step {steps}");
                    return;
                }
                ours.Update(overflow);
                Assert.Equal((double)torch.Scale, ours.Scale);
                Assert.Equal(torch.GrowthTracker, ours.State.GrowthTracker);
            }
        }
        Assert.False(underflows, "the scale was expected to leave float32's range");
        Assert.InRange(overflows, 1, steps - 1);
    }
}
