using System;
using System.Linq;
using PrecisionPolicy;
using PrecisionPolicy.Lora;
using PrecisionPolicy.Policy;
using PrecisionPolicy.Quantization;
using PrecisionPolicy.Reports;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.IntegrationTests;

/// <summary>An attention-like block: q and v adapted by QLoRA, k and the head left frozen in BF16.</summary>
[Autocast(Precision.BF16)]
public sealed partial class QloraBlock : Module<Tensor, Tensor>
{
    private readonly Linear q;
    private readonly Linear k;
    private readonly Linear v;
    private readonly LayerNorm norm;

    public QloraBlock(int d) : base(nameof(QloraBlock))
    {
        q = Linear(d, d);
        k = Linear(d, d, hasBias: false);
        v = Linear(d, d, hasBias: false);
        norm = LayerNorm(d);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => norm.call(q.call(x) + k.call(x) + v.call(x));
}

/// <summary>The manifest and plan of a QLoRA model against the bytes its tensors and optimizer hold.</summary>
public sealed class QloraManifestTests
{
    private const int D = 256, Rank = 8;

    private static QloraBlock Model()
    {
        manual_seed(2);
        var model = new QloraBlock(D).ApplyPrecisionPolicy();
        model.AttachLora(new LoraOptions { Rank = Rank, TargetModules = ["q", "v"] });
        return model;
    }

    // What is really allocated: every parameter and buffer of the module, in its dtype.
    private static long MeasuredModuleBytes(Module module) =>
        module.parameters().Sum(p => p.numel() * p.element_size()) + module.buffers().Sum(b => b.numel() * b.element_size());

    [Fact]
    public void The_manifest_lists_the_nf4_base_adapters_masters_and_state_and_matches_measured_bytes()
    {
        using var model = Model();
        using var optimizer = model.CreateMixedPrecisionOptimizer(ps => optim.AdamW(ps, 1e-3));
        model.TrainStep(optimizer, randn(4, D), randn(4, D), (o, t) => functional.mse_loss(o, t));
        var manifest = model.GetPrecisionManifest(optimizer);

        // NF4 base of q and v: 65,536 codes each in 32,768 bytes; 1,024 blocks → 1,024 constant codes, 4 FP32 scales, 1 FP32 mean.
        Assert.Equal(2 * 32_768L, manifest.BytesOf(TensorRole.QuantizedWeight));
        Assert.Equal(2 * (1_024L + 4 * 4 + 4), manifest.BytesOf(TensorRole.QuantizationConstants));
        Assert.All(manifest.Entries.Where(e => e.Role == TensorRole.QuantizedWeight), e => Assert.Equal(ScalarType.BFloat16, e.ComputeDtype));
        var bits = (manifest.BytesOf(TensorRole.QuantizedWeight) + manifest.BytesOf(TensorRole.QuantizationConstants)) * 8.0 / (2 * D * D);
        Assert.Equal(4.127, bits, 2);

        // Adapters: 2 layers × (8×256 + 256×8) = 8,192 BF16 elements trained with FP32 masters, accumulators and two Adam moments.
        const long adapterElements = 8_192;
        Assert.Equal(adapterElements, optimizer.MasterElements);
        Assert.Equal(4 * adapterElements, manifest.BytesOf(TensorRole.MasterWeight));
        Assert.Equal(8 * adapterElements, manifest.BytesOf(TensorRole.OptimizerState));
        ManifestAssert.MatchesOptimizerMemory(manifest, optimizer);

        // Module tensors as allocated == the manifest's weights, NF4 base, statistics and buffers.
        var moduleRoles = new[] { TensorRole.WorkingWeight, TensorRole.QuantizedWeight, TensorRole.QuantizationConstants, TensorRole.NormStatistics, TensorRole.Buffer };
        Assert.Equal(MeasuredModuleBytes(model), moduleRoles.Sum(manifest.BytesOf));
        // The adapted layers hold no 16-bit base weight: k (BF16) is the only D×D working weight.
        Assert.Single(manifest.Entries, e => e.Role == TensorRole.WorkingWeight && e.Elements == D * D);
    }

    [Fact]
    public void The_plan_of_the_manifest_has_an_nf4_base_line()
    {
        using var model = Model();
        var plan = MemoryPlan.From(model.GetPrecisionManifest());
        var nf4 = Assert.Single(plan, l => l.Role == "NF4 base");
        Assert.Equal(2 * (32_768.0 + 1_024 + 20), nf4.Bytes);
    }

    [Fact]
    public void Qlora_trains_the_adapters_and_leaves_the_base_bitwise_unchanged()
    {
        using var model = Model();
        var codes = model.named_buffers().Where(b => b.name.EndsWith(".codes", StringComparison.Ordinal)).Select(b => b.buffer.clone()).ToArray();
        using var optimizer = model.CreateMixedPrecisionOptimizer(ps => optim.AdamW(ps, 1e-2));
        var x = randn(16, D);
        var target = randn(16, D);
        var first = 0.0;
        var last = 0.0;
        for (var step = 0; step < 20; step++)
        {
            var outcome = model.TrainStep(optimizer, x, target, (o, t) => functional.mse_loss(o, t));
            Assert.True(outcome.Applied);
        }
        using (no_grad())
        {
            model.eval();
            last = functional.mse_loss(model.call(x), target).item<float>();
        }
        // The adapters moved (lora_B starts at zero); the base codes did not.
        Assert.All(model.LoraLayers(), l => Assert.True(l.Up.weight!.abs().max().to(ScalarType.Float32).item<float>() > 0));
        var after = model.named_buffers().Where(b => b.name.EndsWith(".codes", StringComparison.Ordinal)).Select(b => b.buffer).ToArray();
        Assert.All(codes.Zip(after), p => Assert.True(p.First.equal(p.Second).all().item<bool>()));
        using var fresh = Model();
        using (no_grad())
        {
            fresh.eval();
            first = functional.mse_loss(fresh.call(x), target).item<float>();
        }
        Assert.True(last < 0.9 * first, $"loss {first} → {last}");
    }
}
