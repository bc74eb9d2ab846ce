using System;
using System.Linq;
using PrecisionPolicy.Casting;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Scaling;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.IntegrationTests.Clipping;

/// <summary>
/// A loop kept as its author wrote it: <c>Backward</c> per micro-batch, then TorchSharp's
/// <c>nn.utils.clip_grad_norm_(model.parameters(), max)</c>, then <c>Step()</c>. The clip sees the
/// FP32 gradients the optimizer steps with (the true norm) and clips them, as <c>MaxGradNorm</c> would, with or without
/// loss scaling: <c>Backward</c> divides the scale out as it folds (PyTorch's <c>scaler.unscale_</c> before a clip).
/// </summary>
public sealed class UserClippingTests
{
    private const long Width = 12;
    private const long Classes = 3;
    private const double MaxNorm = 0.05; // below the gradients' norm: the clip must act

    public static TheoryData<Precision, bool, GemmMode> Cases => new()
    {
        { Precision.BF16, false, GemmMode.Native },
        { Precision.BF16, false, GemmMode.Fp32Accumulate },
        { Precision.FP32, false, GemmMode.Native },
        { Precision.FP16, true, GemmMode.Native }, // dynamic loss scaling, 2^16
        { Precision.FP16, true, GemmMode.Fp32Accumulate },
        { Precision.FP16, false, GemmMode.Fp32Accumulate }, // FP16 with loss scaling off
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Clip_grad_norm_between_backward_and_step_clips_the_unscaled_fp32_gradients_the_optimizer_uses(Precision precision, bool lossScaling, GemmMode mode)
    {
        using var scope = NewDisposeScope();
        using var gemm = GemmModeScope.Use(mode);
        using var autocast = AutocastScope.Use(precision);
        var options = new MasterWeightOptions { Scaling = lossScaling ? LossScalerOptions.Dynamic : LossScalerOptions.Off };
        // The reference: the optimizer's own clipping, on the gradients Step unscales.
        var (reference, referenceOptimizer) = Build(options with { MaxGradNorm = MaxNorm });
        foreach (var batch in Batches()) referenceOptimizer.Backward(Loss(reference, batch));
        var outcome = referenceOptimizer.Step();

        var (model, optimizer) = Build(options);
        Assert.Equal(lossScaling ? 65536.0 : 1.0, optimizer.Scaler.Enabled ? optimizer.Scaler.Scale : 1.0);
        foreach (var batch in Batches()) optimizer.Backward(Loss(model, batch));
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.grad!.dtype)); // the FP32 accumulators
        var trueNorm = Math.Sqrt(model.parameters().Sum(p => p.grad!.to(ScalarType.Float64).square().sum().item<double>()));
        var norm = nn.utils.clip_grad_norm_(model.parameters(), MaxNorm);
        var clippedNorm = Math.Sqrt(optimizer.ParameterNames.Sum(n => optimizer.GradientOf(n).to(ScalarType.Float64).square().sum().item<double>()));
        optimizer.Step();

        Assert.True(outcome.GradNorm > 2 * MaxNorm, $"the gradients' norm {outcome.GradNorm} is above the threshold");
        Assert.True(Math.Abs(norm - trueNorm) <= 1e-6 * trueNorm, $"clip_grad_norm_ returned {norm}, the unscaled gradients' norm is {trueNorm}");
        Assert.True(Math.Abs(norm - outcome.GradNorm) <= 1e-5 * outcome.GradNorm, $"clip_grad_norm_ saw {norm}, the optimizer {outcome.GradNorm}");
        Assert.True(Math.Abs(clippedNorm - MaxNorm * trueNorm / (trueNorm + 1e-6)) <= 1e-6 * MaxNorm, $"clipped to {clippedNorm}, not {MaxNorm}");
        foreach (var name in optimizer.ParameterNames)
            Assert.True(referenceOptimizer.MasterOf(name).allclose(optimizer.MasterOf(name), rtol: 1e-5, atol: 1e-7), $"{name} stepped differently");
        referenceOptimizer.Dispose();
        optimizer.Dispose();
    }

    [Theory]
    [ClassData(typeof(EachGemmMode))]
    public void Under_fp16_loss_scaling_grad_holds_the_gradients_without_the_scale(GemmMode mode)
    {
        using var scope = NewDisposeScope();
        using var gemm = GemmModeScope.Use(mode);
        using var autocast = AutocastScope.Use(Precision.FP16);
        Tensor[] GradientsWith(LossScalerOptions scaling)
        {
            var (model, optimizer) = Build(new MasterWeightOptions { Scaling = scaling });
            foreach (var batch in Batches()) optimizer.Backward(Loss(model, batch));
            return model.parameters().Select(p => p.grad!.clone()).ToArray();
        }

        // A power-of-two scale moves only exponents: away from FP16's subnormals the scaled backward, unscaled, gives the
        // same gradients as an unscaled one; a gradient still carrying 2^16 would be off by that factor.
        var scaled = GradientsWith(LossScalerOptions.Dynamic);
        var unscaled = GradientsWith(LossScalerOptions.Off);
        for (var i = 0; i < scaled.Length; i++)
            Assert.True(scaled[i].allclose(unscaled[i], rtol: 1e-3, atol: 1e-6), $"gradient {i}: max difference {(scaled[i] - unscaled[i]).abs().max().item<float>()}");
    }

    private static (ClippedMlp Model, MasterWeightOptimizer Optimizer) Build(MasterWeightOptions options)
    {
        manual_seed(21);
        var model = new ClippedMlp(Width, Classes).ApplyPrecisionPolicy();
        return (model, model.CreateMixedPrecisionOptimizer(ps => optim.SGD(ps, 0.5), options));
    }

    private static (Tensor X, Tensor Y)[] Batches()
    {
        var generator = new Generator(22);
        return Enumerable.Range(0, 2).Select(_ => (randn(new long[] { 16, Width }, generator: generator), randint(0, Classes, new long[] { 16 }, generator: generator))).ToArray();
    }

    private static Tensor Loss(ClippedMlp model, (Tensor X, Tensor Y) batch) => nn.functional.cross_entropy(model.call(batch.X), batch.Y);
}
