using System;
using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch;

namespace PrecisionPolicy.Samples.Addition.Training;

/// <summary>
/// Counts, over the applied steps of a run, the parameter elements whose gradient was nonzero but whose
/// stored value the step left bit-for-bit unchanged: the updates <c>w + lr·g == w</c> rounded away.
/// "Stored" is what the optimizer updates: the FP32 master with master weights, else the parameter itself.
/// The counts stay on the device; <see cref="Fraction"/> reads them once.
/// </summary>
public sealed class LostUpdates : IDisposable
{
    private readonly Tensor lost = zeros(1, ScalarType.Int64).DetachFromDisposeScope();
    private readonly Tensor nonzero = zeros(1, ScalarType.Int64).DetachFromDisposeScope();

    /// <summary>
    /// Before a step: copies of the stored values and masks of the nonzero gradients, for
    /// <see cref="After"/>. Call inside the step's dispose scope.
    /// </summary>
    public static IReadOnlyList<(Tensor Stored, Tensor Before, Tensor Moving)> Before(IEnumerable<(Tensor Stored, Tensor Gradient)> parameters)
    {
        using var noGrad = no_grad();
        return parameters.Select(p => (p.Stored, p.Stored.clone(), p.Gradient.ne(0))).ToArray();
    }

    /// <summary>After a step: adds the elements it should have moved and those it left unchanged; nothing for a skipped step.</summary>
    public void After(IReadOnlyList<(Tensor Stored, Tensor Before, Tensor Moving)> snapshot, bool applied)
    {
        if (!applied) return;
        using var noGrad = no_grad();
        foreach (var (stored, before, moving) in snapshot)
        {
            nonzero.add_(moving.sum().to(lost.device).reshape(1));
            lost.add_(moving.logical_and(stored.eq(before)).sum().to(lost.device).reshape(1));
        }
    }

    /// <summary>Lost updates over nonzero gradients; NaN when no applied step had a nonzero gradient.</summary>
    public double Fraction
    {
        get
        {
            var (l, n) = (lost.cpu().item<long>(), nonzero.cpu().item<long>());
            return n == 0 ? double.NaN : (double)l / n;
        }
    }

    public void Dispose()
    {
        lost.Dispose();
        nonzero.Dispose();
    }
}
