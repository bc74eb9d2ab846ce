using PrecisionPolicy.Reports;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Optimization;

/// <summary>The gradients a training loop sees on the module's parameters between <see cref="Backward"/> and <see cref="Step()"/>.</summary>
public sealed partial class MasterWeightOptimizer
{
    /// <summary>
    /// After a backward, each working parameter's <c>.grad</c> is its FP32 accumulator: the gradient the optimizer will
    /// step with, summed over the micro-batches so far and unscaled (each backward divides the loss scale out as it
    /// folds, what PyTorch's <c>scaler.unscale_(optimizer)</c> does before a clip). So a loop that clips as it would
    /// without master weights, <c>nn.utils.clip_grad_norm_(model.parameters(), 1.0)</c> between <c>Backward</c> and
    /// <c>Step</c>, gets the true norm and clips what the optimizer uses, under BF16, FP16 with loss scaling and FP32
    /// alike. The next backward points <c>.grad</c> back at the working gradient buffers that autograd accumulates into.
    /// </summary>
    private void ExposeAccumulatedGradients()
    {
        // Under ZeRO the accumulators stay loss-scaled until the step (stage 2: reduce-scattered and cleared after every
        // backward): shown only when unscaled.
        var visible = UnscalesAtBackward || ((!Scaler.Enabled || Scaler.Scale == 1.0) && zero!.Stage != ZeroStage.Gradients);
        foreach (var s in slots) s.Working.grad = visible ? s.MasterGrad : null;
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
