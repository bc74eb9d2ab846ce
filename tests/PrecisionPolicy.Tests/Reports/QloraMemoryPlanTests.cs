using System;
using System.Linq;
using PrecisionPolicy.Reports;
using Xunit;

namespace PrecisionPolicy.Tests.Reports;

/// <summary>The QLoRA plan: 4.127 bits per base parameter, adapters as any trainable parameter.</summary>
public sealed class QloraMemoryPlanTests
{
    [Fact]
    public void Seven_billion_parameters_cost_4_127_bits_each_plus_the_adapters_16_bytes()
    {
        var lora = new LoraShape(64, 4096, 32);
        var plan = MemoryPlan.ForQlora(7e9, Precision.BF16, lora);
        Assert.Equal(3.5e9, plan.Single(l => l.Role == "NF4 base codes").Bytes);
        // (8/64 + 32/(64·256)) bits / 8 = 0.01586914 bytes per parameter.
        Assert.Equal(7e9 * (0.125 + 32.0 / 16384) / 8, plan.Single(l => l.Role == "NF4 block constants").Bytes, 3);
        var adapters = lora.AdapterParameters(); // 32 × 4 × 64 × 8192 = 67,108,864
        Assert.Equal(67_108_864, adapters);
        Assert.Equal(16 * adapters, plan.Where(l => l.Role.StartsWith("adapter ", StringComparison.Ordinal)).Sum(l => l.Bytes));
        // Without double quantization the constants cost 0.5 bits.
        var single = MemoryPlan.ForQlora(7e9, Precision.BF16, lora, doubleQuantize: false);
        Assert.Equal(7e9 * 0.5 / 8, single.Single(l => l.Role == "NF4 block constants").Bytes);
    }

    [Fact]
    public void Sixty_five_billion_parameters_fit_the_papers_48_gb_before_activations()
    {
        var plan = MemoryPlan.ForQlora(65e9, Precision.BF16, new LoraShape(64, 8192, 80));
        var total = MemoryPlan.Total(plan);
        Assert.True(total < 48e9, $"{total / 1e9:F1} GB");
        Assert.True(total > 65e9 * 4.127 / 8, "at least the NF4 base");
    }

    [Fact]
    public void Fp32_compute_is_not_a_qlora_plan()
    {
        Assert.Throws<ArgumentException>(() => MemoryPlan.ForQlora(7e9, Precision.FP32, new LoraShape(8, 4096, 32)));
    }
}
