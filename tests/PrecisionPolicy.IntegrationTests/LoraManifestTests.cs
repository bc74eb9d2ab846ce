using System.Linq;
using PrecisionPolicy;
using PrecisionPolicy.Policy;
using PrecisionPolicy.Reports;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.IntegrationTests;

/// <summary>A LoRA layer: a frozen d×d base plus a rank-r adapter pair (down d→r, up r→d).</summary>
[Autocast(Precision.BF16)]
public sealed partial class LoraLinear : Module<Tensor, Tensor>
{
    private readonly Linear baseLayer;
    private readonly Linear down;
    private readonly Linear up;

    public LoraLinear(int d, int rank) : base(nameof(LoraLinear))
    {
        baseLayer = Linear(d, d, hasBias: false);
        down = Linear(d, rank, hasBias: false);
        up = Linear(rank, d, hasBias: false);
        RegisterComponents();
    }

    public LoraLinear FreezeBase()
    {
        foreach (var p in baseLayer.parameters()) p.requires_grad = false;
        return this;
    }

    public override Tensor forward(Tensor x) => baseLayer.call(x) + up.call(down.call(x));
}

public sealed class LoraManifestTests
{
    // 512×512 frozen BF16 base: 262,144 elements × 2 B = 524,288 B, and nothing else.
    // Adapters: down 8×512 + up 512×8 = 8,192 elements. Per element: BF16 working 2 B, FP32 master 4 B,
    // BF16 gradient 2 B, FP32 accumulator 4 B, two FP32 Adam moments 8 B.
    private const long BaseBytes = 524_288;
    private const long AdapterElements = 8_192;

    private static void AssertLoraBytes(PrecisionManifest manifest)
    {
        Assert.Equal(BaseBytes + 2 * AdapterElements, manifest.BytesOf(TensorRole.WorkingWeight)); // 540,672
        Assert.Equal(4 * AdapterElements, manifest.BytesOf(TensorRole.MasterWeight));               // 32,768
        Assert.Equal(2 * AdapterElements, manifest.BytesOf(TensorRole.Gradient));                   // 16,384
        Assert.Equal(4 * AdapterElements, manifest.BytesOf(TensorRole.GradientAccumulator));        // 32,768
        Assert.Equal(8 * AdapterElements, manifest.BytesOf(TensorRole.OptimizerState));             // 65,536
        Assert.Equal(688_128L, manifest.TotalBytes);
        // The frozen base is a working weight and nothing more.
        Assert.Equal(new[] { TensorRole.WorkingWeight }, manifest.Entries.Where(e => e.Member.StartsWith("baseLayer.", System.StringComparison.Ordinal)).Select(e => e.Role));
    }

    [Fact]
    public void Before_an_optimizer_exists_requires_grad_decides()
    {
        var model = new LoraLinear(512, 8).ApplyPrecisionPolicy().FreezeBase();
        AssertLoraBytes(model.GetPrecisionManifest());
    }

    [Fact]
    public void With_the_optimizer_the_manifest_counts_what_it_holds()
    {
        var model = new LoraLinear(512, 8).ApplyPrecisionPolicy().FreezeBase();
        using var optimizer = model.CreateMixedPrecisionOptimizer(ps => optim.AdamW(ps, 1e-3));
        Assert.Equal(AdapterElements, optimizer.MasterElements);
        // One step, so Adam's moments exist whether the optimizer makes them eagerly or on first use.
        model.TrainStep(optimizer, randn(4, 512), randn(4, 512), (o, t) => functional.mse_loss(o, t));

        var manifest = model.GetPrecisionManifest(optimizer);
        AssertLoraBytes(manifest);
        ManifestAssert.MatchesOptimizerMemory(manifest, optimizer);
    }

    [Fact]
    public void The_plan_of_the_manifest_shards_only_what_trains()
    {
        var model = new LoraLinear(512, 8).ApplyPrecisionPolicy().FreezeBase();
        var plan = MemoryPlan.From(model.GetPrecisionManifest());
        Assert.Equal(new[] { 540_672.0, 32_768.0, 65_536.0, 49_152.0 }, plan.Select(l => l.Bytes));
        // ZeRO-2 on 8 GPUs: weights whole; masters, state and gradients / 8 = 540,672 + (32,768 + 65,536 + 49,152) / 8 = 559,104.
        Assert.Equal(559_104.0, MemoryPlan.Total(ShardedMemoryPlan.PerGpu(plan, Sharding.Zero(2, 8))));
    }

    [Fact]
    public void An_optimizer_of_another_module_is_refused()
    {
        var model = new LoraLinear(512, 8).ApplyPrecisionPolicy().FreezeBase();
        var other = new Mixed(8).ApplyPrecisionPolicy();
        using var optimizer = other.CreateMixedPrecisionOptimizer(ps => optim.AdamW(ps, 1e-3));
        Assert.Throws<System.ArgumentException>(() => model.GetPrecisionManifest(optimizer));
    }
}
