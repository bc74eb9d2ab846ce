using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy.Casting;
using PrecisionPolicy.Policy;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.IntegrationTests;

/// <summary>ApplyPrecisionPolicy(), boundary hooks, nested policies, the manifest and the optimizer.</summary>
public sealed class PolicyTests() : NativeGemmTests(3)
{
    private const ScalarType BF16 = ScalarType.BFloat16;
    private const ScalarType F32 = ScalarType.Float32;

    [Fact]
    public void Apply_sets_storage_dtypes_per_member_and_nested_policy()
    {
        var model = new Mixed(8).ApplyPrecisionPolicy();
        var dtypes = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.dtype);
        Assert.Equal(BF16, dtypes["fc.weight"]);
        Assert.Equal(F32, dtypes["norm.weight"]);
        Assert.Equal(F32, dtypes["router.weight"]);
        Assert.Equal(BF16, dtypes["body.0.weight"]);
        Assert.Equal(F32, dtypes["body.2.weight"]);
        Assert.Equal(BF16, dtypes["body.3.weight"]);
        Assert.Equal(ScalarType.Float16, dtypes["inner.fc.weight"]);
    }

    [Fact]
    public void Apply_twice_changes_nothing_and_returns_the_same_instance()
    {
        var model = new Mixed(8);
        var applied = model.ApplyPrecisionPolicy();
        Assert.Same(model, applied);
        var before = model.named_parameters().Select(p => (p.name, p.parameter.dtype, p.parameter.numel())).ToList();
        var weight = model.named_parameters().First(p => p.name == "fc.weight").parameter.to(F32).clone();
        model.ApplyPrecisionPolicy();
        var after = model.named_parameters().Select(p => (p.name, p.parameter.dtype, p.parameter.numel())).ToList();
        Assert.Equal(before, after);
        Assert.True((weight == model.named_parameters().First(p => p.name == "fc.weight").parameter.to(F32)).all().item<bool>());
        Assert.Equal(F32, model.forward(randn(2, 8)).dtype);
    }

    [Fact]
    public void Boundary_hooks_cover_sequential_children_the_interceptors_cannot_see()
    {
        var model = new Mixed(8).ApplyPrecisionPolicy();
        var seen = new List<(string, ScalarType)>();
        foreach (var (name, module) in model.Body.named_children())
        {
            if (module is nn.Module<Tensor, Tensor> unary)
                unary.register_forward_hook((_, input, output) => { seen.Add((name, input.dtype)); return output; });
        }
        model.forward(randn(2, 8));
        Assert.Contains(("0", BF16), seen);
        Assert.Contains(("2", F32), seen);  // LayerNorm inside the Sequential runs in FP32
        Assert.Contains(("3", BF16), seen); // the Linear after it gets BF16 again
    }

    [Fact]
    public void Manifest_lists_roles_dtypes_and_bytes()
    {
        var model = new Mixed(8).ApplyPrecisionPolicy();
        var manifest = model.GetPrecisionManifest();
        var fc = manifest.Entries.Single(e => e.Member == "fc.weight");
        Assert.Equal((TensorRole.WorkingWeight, BF16, 64L, 128L), (fc.Role, fc.StorageDtype, fc.Elements, fc.Bytes));
        var master = manifest.Entries.Single(e => e.Member == "fc.weight (master)");
        Assert.Equal((TensorRole.MasterWeight, F32, 256L), (master.Role, master.StorageDtype, master.Bytes));
        Assert.DoesNotContain(manifest.Entries, e => e.Member == "router.weight (master)");
        Assert.True(manifest.BytesOf(TensorRole.OptimizerState) > 0);
        Assert.Contains("fc.weight", manifest.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Batch_norm_statistics_stay_fp32()
    {
        var zoo = new OpZoo(8).ApplyPrecisionPolicy();
        var buffers = zoo.named_buffers().ToDictionary(b => b.name, b => b.buffer.dtype);
        Assert.Equal(F32, buffers["batchNorm.running_mean"]);
        Assert.Equal(F32, buffers["batchNorm.running_var"]);
        Assert.Equal(ScalarType.Int64, buffers["batchNorm.num_batches_tracked"]);
        var manifest = zoo.GetPrecisionManifest();
        Assert.Equal(TensorRole.NormStatistics, manifest.Entries.Single(e => e.Member == "batchNorm.running_mean").Role);
    }

    [Fact]
    public void Gradients_reach_fp32_masters_through_the_generated_optimizer()
    {
        var model = new Mixed(8).ApplyPrecisionPolicy();
        using var optimizer = model.CreateMixedPrecisionOptimizer(ps => optim.AdamW(ps, 1e-3));
        Assert.Equal(LossScalingMode.Off, optimizer.Scaler.Options.Mode);
        var before = optimizer.MasterOf("fc.weight").clone();
        var outcome = model.TrainStep(optimizer, randn(4, 8), randn(4, 8), (o, t) => nn.functional.mse_loss(o, t));
        Assert.True(outcome.Applied);
        Assert.Equal(F32, optimizer.MasterOf("fc.weight").dtype);
        Assert.Equal(BF16, model.named_parameters().Single(p => p.name == "fc.weight").parameter.dtype);
        Assert.False((before == optimizer.MasterOf("fc.weight")).all().item<bool>());
    }

    [Fact]
    public void Helper_classes_and_high_precision_module_classes_keep_their_policies()
    {
        var model = new WithHelpers(8).ApplyPrecisionPolicy();
        var dtypes = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.dtype);
        Assert.Equal(BF16, dtypes["fc.weight"]);
        Assert.Equal(F32, dtypes["head.fc.weight"]);   // [HighPrecision] class: FP32 wherever it is used
        Assert.Equal(F32, model.forward(randn(2, 8)).dtype);
        Assert.Equal(BF16, model.HelperMm(randn(2, 8), randn(8, 3)).dtype);   // [Autocast] helper class
        Assert.Equal(F32, PolicyHelpers.Softmax(randn(2, 8).to(BF16)).dtype);
    }

    [Fact]
    public void Fp16_policy_gets_dynamic_loss_scaling_by_default()
    {
        var inner = new HalfInner(4).ApplyPrecisionPolicy();
        using var optimizer = inner.CreateMixedPrecisionOptimizer(ps => optim.SGD(ps, 0.1));
        Assert.Equal(LossScalingMode.Dynamic, optimizer.Scaler.Options.Mode);
        Assert.Equal(65536.0, optimizer.Scaler.Scale);
    }
}
