using System.Linq;
using System;
using PrecisionPolicy.CompilerServices;
using PrecisionPolicy.Fp8;
using PrecisionPolicy.Optimization;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Fp8;

public sealed class Fp8ScalingTests
{
    private static readonly StepOutcome Applied = new(true, 1.0, 1.0, null, 1);

    /// <summary>One forward cast of a tensor whose amax is <paramref name="amax"/>, then the step's end.</summary>
    private static float[] Step(Fp8Context context, params float[] values)
    {
        using var scope = NewDisposeScope();
        using (context.Enter())
        {
            var q = Fp8Autocast.Operand(tensor(values), "fc1#0");
            context.OnStepEnd(Applied);
            return q.to(ScalarType.Float32).data<float>().ToArray(); // bfloat16 when the GEMM mode is Native
        }
    }

    private static float ForwardScale(Fp8Context context) => context.Sites.Single(s => s.Direction == Fp8Direction.Forward).Scale;

    [Fact]
    public void First_step_uses_scale_one_then_fp8_max_over_amax()
    {
        var context = new Fp8Context(Fp8Recipe.Default);
        Step(context, 3.5f, -1f);
        Assert.Equal(128f, ForwardScale(context)); // 448 / 3.5
    }

    [Theory]
    [InlineData(0, 128f)]
    [InlineData(1, 64f)]
    [InlineData(3, 16f)]
    public void Margin_divides_the_scale_by_two_to_the_margin(int margin, float expected)
    {
        var context = new Fp8Context(new Fp8Recipe(margin: margin));
        Step(context, 3.5f);
        Assert.Equal(expected, ForwardScale(context));
    }

    [Fact]
    public void One_amax_spike_lowers_the_scale_for_exactly_history_length_steps()
    {
        const int history = 4;
        var context = new Fp8Context(new Fp8Recipe(amaxHistoryLength: history));
        var scales = new float[12];
        for (var step = 0; step < scales.Length; step++)
        {
            Step(context, step == 3 ? 100f : 2f);
            scales[step] = ForwardScale(context); // the scale the next step uses
        }
        float normal = 448f / 2f, spiked = 448f / 100f;
        var expected = new[] { normal, normal, normal, spiked, spiked, spiked, spiked, normal, normal, normal, normal, normal };
        Assert.Equal(expected, scales);
        Assert.Equal(history, scales.Count(s => s == spiked));
    }

    [Fact]
    public void Most_recent_amax_follows_the_last_step_only()
    {
        var context = new Fp8Context(new Fp8Recipe(amaxHistoryLength: 4, amaxCompute: Fp8AmaxCompute.MostRecent));
        Step(context, 100f);
        Assert.Equal(4.48f, ForwardScale(context));
        Step(context, 7f);
        Assert.Equal(64f, ForwardScale(context));
    }

    [Fact]
    public void The_largest_amax_of_a_step_counts_when_a_site_is_cast_several_times()
    {
        var context = new Fp8Context(new Fp8Recipe(amaxHistoryLength: 1));
        using (context.Enter())
        {
            using var scope = NewDisposeScope();
            Fp8Autocast.Operand(tensor(new[] { 7f }), "fc1#0");
            Fp8Autocast.Operand(tensor(new[] { 3.5f }), "fc1#0");
        }
        context.OnStepEnd(Applied);
        Assert.Equal(64f, ForwardScale(context));
    }

    [Fact]
    public void Zero_and_non_finite_amax_keep_the_previous_scale()
    {
        var context = new Fp8Context(new Fp8Recipe(amaxHistoryLength: 1));
        Step(context, 7f);
        Assert.Equal(64f, ForwardScale(context));
        Step(context, 0f, 0f);
        Assert.Equal(64f, ForwardScale(context));
        Step(context, float.PositiveInfinity);
        Assert.Equal(64f, ForwardScale(context));
        var site = context.Sites.Single(s => s.Direction == Fp8Direction.Forward);
        Assert.Equal(1, site.NonFiniteAmaxes);
        Assert.Equal(1, site.Saturations); // ∞ became +448 / 64, not NaN
    }

    [Fact]
    public void Delayed_scale_saturates_and_counts_values_above_the_range_instead_of_making_nan()
    {
        var context = new Fp8Context(Fp8Recipe.Default);
        Step(context, 3.5f);                        // scale 128 from here on
        var q = Step(context, 4f, 10f, -5f, 1f);    // scaled: 512, 1280, -640, 128
        Assert.Equal(new[] { 3.5f, 3.5f, -3.5f, 1f }, q);
        Assert.Equal(3, context.Sites.Single(s => s.Direction == Fp8Direction.Forward).Saturations);
        Assert.Equal(448f / 10f, ForwardScale(context));
    }

    [Fact]
    public void Current_scaling_uses_the_tensors_own_amax_at_once()
    {
        var context = new Fp8Context(new Fp8Recipe(scaling: Fp8Scaling.Current));
        // amax 7 → scale 64: 7 × 64 = 448 exact; 0.3 × 64 = 19.2 → 20 (spacing 2 in [16, 32)) → 0.3125.
        var q = Step(context, 7f, 0.3f);
        Assert.Equal(new[] { 7f, 0.3125f }, q);
        Assert.Equal(64f, ForwardScale(context));
        Assert.Equal(0, context.Sites.Single(s => s.Direction == Fp8Direction.Forward).Saturations);
        q = Step(context, 100f);
        Assert.Equal(new[] { 100f }, q);
        Assert.Equal(4.48f, ForwardScale(context));
    }

    [Fact]
    public void Skipped_steps_update_the_scale_too_as_transformer_engine_does()
    {
        var context = new Fp8Context(new Fp8Recipe(amaxHistoryLength: 1));
        using (context.Enter())
        using (NewDisposeScope())
            Fp8Autocast.Operand(tensor(new[] { 7f }), "fc1#0");
        context.OnStepEnd(new StepOutcome(false, 65536, double.PositiveInfinity, "fc1.weight", 1));
        Assert.Equal(64f, ForwardScale(context));
        Assert.Equal(1, context.Steps);
    }
}
