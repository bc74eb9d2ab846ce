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
/// <c>nn.utils.clip_grad_norm_(model.parameters(), max)</c>, then <c>Step()</c>. Without loss scaling the clip sees the
/// FP32 gradients the optimizer steps with (the true norm) and clips them, as <c>MaxGradNorm</c> would; with loss
/// scaling it finds no gradient to clip and changes nothing (PP0005 points at <c>maxGradNorm</c>).
/// </summary>
public sealed class UserClippingTests
{
    private const long Width = 12;
    private const long Classes = 3;
    private const double MaxNorm = 0.05; // below the gradients' norm: the clip must act

    public static TheoryData<Precision, GemmMode> Unscaled => new()
    {
        { Precision.BF16, GemmMode.Native },
        { Precision.BF16, GemmMode.Fp32Accumulate },
        { Precision.FP32, GemmMode.Native },
        { Precision.FP16, GemmMode.Fp32Accumulate }, // FP16 with loss scaling off
    };

    [Theory]
    [MemberData(nameof(Unscaled))]
    public void Clip_grad_norm_between_backward_and_step_clips_the_fp32_gradients_the_optimizer_uses(Precision precision, GemmMode mode)
    {
        using var scope = NewDisposeScope();
        GemmModes.Override(DeviceType.CPU, mode);
        try
        {
            using var autocast = AutocastScope.Use(precision);
            var off = new MasterWeightOptions { Scaling = LossScalerOptions.Off };
            // The reference: the optimizer's own clipping.
            var (reference, referenceOptimizer) = Build(off with { MaxGradNorm = MaxNorm });
            foreach (var batch in Batches()) referenceOptimizer.Backward(Loss(reference, batch));
            var outcome = referenceOptimizer.Step();

            var (model, optimizer) = Build(off);
            foreach (var batch in Batches()) optimizer.Backward(Loss(model, batch));
            Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.grad!.dtype)); // the FP32 accumulators
            // PP0005 reports this clip (loss scaling is decided at run time); this loop runs without it.
#pragma warning disable PP0005
            var norm = nn.utils.clip_grad_norm_(model.parameters(), MaxNorm);
#pragma warning restore PP0005
            optimizer.Step();

            Assert.True(outcome.GradNorm > 2 * MaxNorm, $"the gradients' norm {outcome.GradNorm} is above the threshold");
            Assert.True(Math.Abs(norm - outcome.GradNorm) <= 1e-5 * outcome.GradNorm, $"clip_grad_norm_ saw {norm}, the optimizer {outcome.GradNorm}");
            foreach (var name in optimizer.ParameterNames)
                Assert.True(referenceOptimizer.MasterOf(name).allclose(optimizer.MasterOf(name), rtol: 1e-5, atol: 1e-7), $"{name} stepped differently");
            referenceOptimizer.Dispose();
            optimizer.Dispose();
        }
        finally
        {
            GemmModes.Override(DeviceType.CPU, null);
        }
    }

    [Theory]
    [InlineData(GemmMode.Native)]
    [InlineData(GemmMode.Fp32Accumulate)]
    public void With_loss_scaling_the_clip_finds_nothing_and_changes_nothing(GemmMode mode)
    {
        using var scope = NewDisposeScope();
        GemmModes.Override(DeviceType.CPU, mode);
        try
        {
            using var autocast = AutocastScope.Use(Precision.FP16);
            var scaled = new MasterWeightOptions { Scaling = LossScalerOptions.Dynamic };
            var (reference, referenceOptimizer) = Build(scaled);
            foreach (var batch in Batches()) referenceOptimizer.Backward(Loss(reference, batch));
            referenceOptimizer.Step();

            var (model, optimizer) = Build(scaled);
            foreach (var batch in Batches()) optimizer.Backward(Loss(model, batch));
            Assert.All(model.parameters(), p => Assert.Null(p.grad)); // the scaled accumulators are not handed out
#pragma warning disable PP0005 // what the rule warns about: this clip finds nothing
            Assert.Equal(0.0, nn.utils.clip_grad_norm_(model.parameters(), MaxNorm));
#pragma warning restore PP0005
            optimizer.Step();

            foreach (var name in optimizer.ParameterNames)
                Assert.True(referenceOptimizer.MasterOf(name).eq(optimizer.MasterOf(name)).all().item<bool>(), $"{name} changed by the clip");
            referenceOptimizer.Dispose();
            optimizer.Dispose();
        }
        finally
        {
            GemmModes.Override(DeviceType.CPU, null);
        }
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
