using System;
using System.Linq;
using PrecisionPolicy.Reports;
using Xunit;

namespace PrecisionPolicy.Tests.Reports;

public sealed class MemoryPlanTests
{
    private const double SevenBillion = 7e9;
    private const double GB = 1e9;

    [Fact]
    public void Fp32_7b_needs_112_gb_of_weight_state()
    {
        var plan = MemoryPlan.For(SevenBillion, Precision.FP32);
        Assert.Equal(new[] { 28.0, 28.0, 56.0 }, plan.Select(l => l.Bytes / GB));
        Assert.Equal(112.0, MemoryPlan.Total(plan) / GB);
    }

    [Fact]
    public void Mixed_7b_is_14_plus_28_plus_56_plus_14_gb()
    {
        var plan = MemoryPlan.For(SevenBillion, Precision.BF16);
        Assert.Equal(new[] { "working weights", "master weights", "optimizer state", "gradients" }, plan.Select(l => l.Role));
        Assert.Equal(new[] { 14.0, 28.0, 56.0, 14.0 }, plan.Select(l => l.Bytes / GB));
        Assert.Equal(112.0, MemoryPlan.Total(plan) / GB);
    }

    [Fact]
    public void The_runtime_accumulators_add_4_bytes_per_parameter()
    {
        var plan = MemoryPlan.For(SevenBillion, Precision.FP16, runtimeAccumulators: true);
        Assert.Equal(140.0, MemoryPlan.Total(plan) / GB);
    }

    [Fact]
    public void Activations_follow_the_korthikanti_formula_and_halve_in_16_bit()
    {
        var shape = new ActivationShape(Batch: 1, Sequence: 2048, Hidden: 4096, Layers: 32, Heads: 32);
        // 34 + 5·a·s/h = 34 + 5·32·2048/4096 = 114 bytes per s·b·h at 2 bytes per element.
        var expected16 = 2048.0 * 4096 * 114 * 32;
        Assert.Equal(expected16, MemoryPlan.ActivationBytes(shape, 2));
        var fp32 = MemoryPlan.For(SevenBillion, Precision.FP32, shape).Single(l => l.Role == "activations").Bytes;
        var bf16 = MemoryPlan.For(SevenBillion, Precision.BF16, shape).Single(l => l.Role == "activations").Bytes;
        Assert.Equal(2 * bf16, fp32);
    }

    [Fact]
    public void Nonsense_sizes_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MemoryPlan.For(0, Precision.BF16));
        Assert.Throws<ArgumentOutOfRangeException>(() => MemoryPlan.ActivationBytes(new ActivationShape(1, 0, 1, 1, 1), 2));
    }
}
