using System;
using System.Linq;
using PrecisionPolicy.CompilerServices;
using PrecisionPolicy.Fp8;
using PrecisionPolicy.Policy;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.IntegrationTests;

/// <summary>The generated FP8 path: storage, per-site scaling states forward and backward, and training.</summary>
public sealed class Fp8Tests
{
    [Fact]
    public void Fp8_policy_quantizes_each_site_and_trains()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var model = new Fp8Mlp(16).ApplyPrecisionPolicy();
        var dtypes = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.dtype);
        Assert.Equal(ScalarType.BFloat16, dtypes["fc1.weight"]);
        Assert.Equal(ScalarType.Float32, dtypes["norm.weight"]);

        using var optimizer = model.CreateMixedPrecisionOptimizer(ps => optim.AdamW(ps, 1e-2));
        Assert.Equal(LossScalingMode.Dynamic, optimizer.Scaler.Options.Mode);
        var x = randn(64, 16);
        var y = (x * 0.5).tanh();
        var first = double.NaN;
        var last = double.NaN;
        for (var step = 0; step < 30; step++)
        {
            var outcome = model.TrainStep(optimizer, x, y, (o, t) => nn.functional.mse_loss(o, t));
            using var noGrad = no_grad();
            var loss = nn.functional.mse_loss(Autocast.Float32(model.call(x)), y).item<float>();
            if (step == 0) first = loss;
            last = loss;
            Assert.True(double.IsFinite(loss));
            _ = outcome;
        }
        Assert.True(last < first * 0.7, $"loss {first} -> {last}");

        var context = Fp8Context.Attach(model, ((IPrecisionPolicyModule)model).PrecisionPlan.Fp8Recipe);
        Assert.Equal(30, context.Steps);
        var sites = context.Sites;
        Assert.Contains(sites, s => s.Site.StartsWith("Fp8Mlp:Models.cs(", StringComparison.Ordinal) && s.Site.EndsWith("#weight", StringComparison.Ordinal) && s.Direction == Fp8Direction.Forward);
        Assert.Contains(sites, s => s.Site.EndsWith("#input", StringComparison.Ordinal) && s.Direction == Fp8Direction.Backward);
        Assert.Equal(4, sites.Select(s => s.Site).Distinct().Count()); // 2 Linear calls x (input, weight)
        Assert.All(sites.Where(s => s.Direction == Fp8Direction.Forward), s => Assert.True(s.Amax > 0));

        // The manifest carries one FP32 amax history (16) plus scale per site and direction.
        var fp8 = model.GetPrecisionManifest().Entries.Where(e => e.Role == TensorRole.Fp8ScalingState).ToArray();
        Assert.Equal(sites.Count, fp8.Length);
        Assert.All(fp8, e => Assert.Equal((17L, 68L), (e.Elements, e.Bytes)));
    }
}
