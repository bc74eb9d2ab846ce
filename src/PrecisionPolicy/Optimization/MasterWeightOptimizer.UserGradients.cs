using PrecisionPolicy.Reports;

namespace PrecisionPolicy.Optimization;

/// <summary>The gradients a training loop sees on the module's parameters between <see cref="Backward"/> and <see cref="Step()"/>.</summary>
public sealed partial class MasterWeightOptimizer
{
    /// <summary>
    /// After a backward, each working parameter's <c>.grad</c> is its FP32 accumulator: the gradient the optimizer will
    /// step with, summed over the micro-batches so far. So a loop that clips as it would without master weights,
    /// <c>nn.utils.clip_grad_norm_(model.parameters(), 1.0)</c> between <c>Backward</c> and <c>Step</c>, gets the true
    /// norm and clips what the optimizer uses. With loss scaling on (scale ≠ 1) the accumulators are still multiplied
    /// by the scale until <c>Step</c> unscales them, and clipping them would clip against a threshold that moves with
    /// the scale: then <c>.grad</c> is null (TorchSharp's clipping finds nothing to clip, and PP0005 says at build time
    /// to set <see cref="MasterWeightOptions.MaxGradNorm"/>, which clips the unscaled gradients in <c>Step</c>). The
    /// next backward points <c>.grad</c> back at the working gradient buffers that autograd accumulates into.
    /// </summary>
    private void ExposeAccumulatedGradients()
    {
        // Under ZeRO stage 2 the accumulators are reduce-scattered and cleared after every backward: nothing to show.
        var unscaled = (!Scaler.Enabled || Scaler.Scale == 1.0) && zero?.Stage != ZeroStage.Gradients;
        foreach (var s in slots) s.Working.grad = unscaled ? s.MasterGrad : null;
    }
}
