using System;
using System.Linq;
using PrecisionPolicy.Reports;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Optimization;

/// <summary>The gradients a training loop sees on the module's parameters between <see cref="Backward"/> and <see cref="Step()"/>.</summary>
public sealed partial class MasterWeightOptimizer
{
    private GradientGuard? gradientGuard; // data parallel only: made at the first backward

    /// <summary>
    /// After a backward, each working parameter's <c>.grad</c> is its FP32 accumulator: the gradient the optimizer will
    /// step with, summed over the micro-batches so far and unscaled (each backward divides the loss scale out as it
    /// folds, what PyTorch's <c>scaler.unscale_(optimizer)</c> does before a clip). So a loop that clips as it would
    /// without master weights, <c>nn.utils.clip_grad_norm_(model.parameters(), 1.0)</c> between <c>Backward</c> and
    /// <c>Step</c>, gets the true norm and clips what the optimizer uses, under BF16, FP16 with loss scaling and FP32
    /// alike. The next backward points <c>.grad</c> back at the working gradient buffers that autograd accumulates into.
    /// <para>
    /// Under data parallel no rank holds the gradient the step uses before <c>Step</c> reduces it: a rank's accumulators
    /// are its own micro-batches (loss-scaled under ZeRO with scaling; zero under ZeRO stage 2, whose backward has already
    /// reduce-scattered them), and a clip there would clip by this rank's norm, not the global one. So the accumulators
    /// are shown with a <see cref="GradientGuard"/> (+inf as the first element of each), which makes any clip certain to
    /// change them, and <c>Step</c> refuses a step whose gradients were changed on any rank, naming <c>maxGradNorm</c>.
    /// </para>
    /// </summary>
    private void ExposeAccumulatedGradients()
    {
        foreach (var s in slots) s.Working.grad = s.MasterGrad;
        if (dataParallel is null) return;
        gradientGuard ??= new GradientGuard(masterGrads, slots.Select(s => s.MasterGrad));
        gradientGuard.Arm();
    }

    /// <summary>Puts the guarded first elements back before backward, a step or a drop uses the accumulators.</summary>
    private void DisarmGradientGuard() => gradientGuard?.Disarm();

    /// <summary>Whether this rank's shown gradients were changed since the last step (false without data parallel).</summary>
    private bool TakeGradientsChanged() => gradientGuard?.TakeChanged() ?? false;

    /// <summary>
    /// The refusal of a step (or a drop) after the shown gradients were changed under data parallel. The caller has dropped the
    /// gradients; masters, optimizer state, working weights and the loss scale are as before.
    /// </summary>
    private InvalidOperationException GradientsChangedRefusal(string operation, bool changedHere)
    {
        var communicator = dataParallel!.Communicator;
        var where = changedHere ? $"on this rank (rank {communicator.Rank} of {communicator.WorldSize})" : $"on another rank of {communicator.WorldSize}";
        var stage = zero is null ? "data parallel" : $"ZeRO stage {(int)zero.Stage}";
        return new InvalidOperationException(
            $"{operation}() refused: the gradients of the module's parameters were changed between Backward and {operation} {where}, by " +
            "nn.utils.clip_grad_norm_, clip_grad_value_ or another edit of .grad. Under " + stage + " a rank holds only its own micro-batches' " +
            "gradients until Step reduces them across the ranks, so a clip there would use this rank's norm, not the global one. Clip with " +
            "the optimizer instead: maxGradNorm (new MasterWeightOptions { MaxGradNorm = 1.0, DataParallel = ... }) clips by the global norm " +
            "of the reduced gradients, on every rank alike, and StepOutcome.GradNorm reports that norm. Nothing was stepped: masters, " +
            "optimizer state, working weights and the loss scale are unchanged; this step's gradients were dropped.");
    }

    /// <summary>
    /// Autograd adds a scaled backward's gradients of FP32 parameters straight into their accumulators, which hold the
    /// micro-batches so far unscaled: scaling those back up first lets the fold divide the sum by the scale once. Exact
    /// for the powers of two dynamic scaling uses.
    /// </summary>
    private void RescaleFp32Accumulators(Scalar scale)
    {
        if (microBatches == 0) return; // the accumulators are zero
        using var _ = no_grad();
        foreach (var g in groups)
            if (!g.IsLowPrecision) g.MasterGrad.mul_(scale);
    }

    /// <summary>
    /// Reduces the accumulators across ranks. They are reduced loss-scaled, as DeepSpeed and FSDP reduce them, so small
    /// gradients survive a 16-bit reduce dtype: scaled up for the reduction and back down after it (exact for powers of two).
    /// </summary>
    private Tensor ReduceAcrossRanks(double scale)
    {
        if (dataParallel is null) return masterGrads;
        if (scale == 1.0)
        {
            dataParallel.Reduce(masterGrads);
            return masterGrads;
        }
        using var up = scale.ToScalar(); // held: see RootedScalars
        using var down = (1.0 / scale).ToScalar();
        masterGrads.mul_(up);
        dataParallel.Reduce(masterGrads);
        masterGrads.mul_(down);
        return masterGrads;
    }

    /// <summary>Whether Backward divides the loss scale out as it folds: unsharded, yes; under ZeRO the reduce-scatter takes loss-scaled gradients.</summary>
    private bool UnscalesAtBackward => zero is null;
}
