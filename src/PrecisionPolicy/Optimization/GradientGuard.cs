using System;
using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch;

namespace PrecisionPolicy.Optimization;

/// <summary>
/// Makes any clip of the gradients a data-parallel rank shows between <c>Backward</c> and <c>Step</c> visible to the
/// optimizer (MasterWeightOptimizer.UserGradients.cs). While armed, the first element of every parameter's gradient holds
/// +inf and its value is kept here. TorchSharp's <c>clip_grad_norm_</c> then computes an infinite norm and multiplies
/// every gradient by max_norm / inf = 0 (for any max_norm, an infinite one included: inf / inf is NaN), turning the +inf
/// into NaN; <c>clip_grad_value_</c> clamps it; zeroing zeroes it. A clip whose coefficient is 1 would change no value,
/// so the guard does not watch values that might not change: it makes the change certain. Disarming reads the first
/// elements back, remembers whether any is no longer +inf, and puts the kept values back, so the step sees exactly the
/// gradients backward produced. Costs a few tensor ops over one element per parameter, and one host read per step.
/// </summary>
internal sealed class GradientGuard : IDisposable
{
    private readonly Tensor gradients;
    private readonly Tensor positions; // int64: the first element of each non-empty parameter in the flat buffer
    private readonly Tensor kept;
    private readonly Tensor changed; // float32 scalar, > 0 once a disarm saw a first element that is not +inf

    /// <param name="gradients">The flat FP32 gradient buffer the parameters' <c>.grad</c> are views of.</param>
    /// <param name="views">The parameters' gradient views into <paramref name="gradients"/>.</param>
    public GradientGuard(Tensor gradients, IEnumerable<Tensor> views)
    {
        this.gradients = gradients;
        var origin = gradients.storage_offset();
        var starts = views.Where(v => v.numel() > 0).Select(v => v.storage_offset() - origin).ToArray();
        positions = tensor(starts, ScalarType.Int64, gradients.device).DetachFromDisposeScope();
        kept = zeros(starts.Length, ScalarType.Float32, gradients.device).DetachFromDisposeScope();
        changed = zeros(1, ScalarType.Float32, gradients.device).DetachFromDisposeScope();
    }

    /// <summary>Whether the first elements hold +inf now.</summary>
    public bool Armed { get; private set; }

    /// <summary>Keeps each parameter's first gradient element and writes +inf there.</summary>
    public void Arm()
    {
        if (Armed) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        kept.copy_(gradients.index_select(0, positions));
        gradients.index_fill_(0, positions, float.PositiveInfinity);
        Armed = true;
    }

    /// <summary>Notes whether any first element was changed and puts the kept values back.</summary>
    public void Disarm()
    {
        if (!Armed) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        changed.add_(gradients.index_select(0, positions).ne(float.PositiveInfinity).sum());
        gradients.index_copy_(0, positions, kept);
        Armed = false;
    }

    /// <summary>Whether a disarm since the last call saw a change (one host read); clears the note.</summary>
    public bool TakeChanged()
    {
        Disarm();
        var seen = HostReads.Scalar<float>(changed) > 0;
        changed.zero_();
        return seen;
    }

    /// <summary>Drops the kept values and the note: the gradients were cleared under the guard (a load).</summary>
    public void Forget()
    {
        Armed = false;
        changed.zero_();
    }

    public void Dispose()
    {
        positions.Dispose();
        kept.Dispose();
        changed.Dispose();
    }
}
