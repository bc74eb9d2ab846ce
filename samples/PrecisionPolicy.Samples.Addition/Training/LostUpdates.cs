using System;
using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch;

namespace PrecisionPolicy.Samples.Addition.Training;

/// <summary>
/// Counts, step by step, the parameter elements whose gradient was nonzero but whose stored value the
/// step left bit-for-bit unchanged: the updates <c>w + lr·g == w</c> rounded away. "Stored" is what the
/// optimizer updates: the FP32 master with master weights, else the parameter itself. The counts stay on
/// the device; <see cref="Fraction"/> and <see cref="PerStep"/> read them at once.
/// </summary>
public sealed class LostUpdates : IDisposable
{
    // Each step's [lost, nonzero] counts, in step order; null for a skipped step.
    private readonly List<Tensor?> steps = [];

    /// <summary>
    /// Before a step: copies of the stored values and masks of the nonzero gradients, for
    /// <see cref="After"/>. Call inside the step's dispose scope.
    /// </summary>
    public static IReadOnlyList<(Tensor Stored, Tensor Before, Tensor Moving)> Before(IEnumerable<(Tensor Stored, Tensor Gradient)> parameters)
    {
        using var noGrad = no_grad();
        return parameters.Select(p => (p.Stored, p.Stored.clone(), p.Gradient.ne(0))).ToArray();
    }

    /// <summary>After a step: records the elements it should have moved and those it left unchanged; for a skipped step, that it was skipped.</summary>
    public void After(IReadOnlyList<(Tensor Stored, Tensor Before, Tensor Moving)> snapshot, bool applied)
    {
        if (!applied)
        {
            steps.Add(null);
            return;
        }
        using var noGrad = no_grad();
        var counts = zeros(2, ScalarType.Int64, snapshot.Count > 0 ? snapshot[0].Stored.device : CPU).DetachFromDisposeScope();
        foreach (var (stored, before, moving) in snapshot)
            counts.add_(stack([moving.logical_and(stored.eq(before)).sum(), moving.sum()]).to(counts.device));
        steps.Add(counts);
    }

    /// <summary>Lost updates over nonzero gradients of all applied steps; NaN when no applied step had a nonzero gradient.</summary>
    public double Fraction
    {
        get
        {
            var (lost, nonzero) = Counts().Where(c => c is not null).Aggregate((0L, 0L), (sum, c) => (sum.Item1 + c!.Value.Lost, sum.Item2 + c.Value.Nonzero));
            return nonzero == 0 ? double.NaN : (double)lost / nonzero;
        }
    }

    /// <summary>The lost fraction of every step, in order; NaN for a skipped step or one without a nonzero gradient.</summary>
    public IReadOnlyList<double> PerStep =>
        Counts().Select(c => c is { Nonzero: > 0 } n ? (double)n.Lost / n.Nonzero : double.NaN).ToArray();

    // One host read for all steps.
    private (long Lost, long Nonzero)?[] Counts()
    {
        var applied = steps.OfType<Tensor>().ToArray();
        using var scope = NewDisposeScope();
        var values = applied.Length == 0 ? [] : stack(applied.Select(c => c.cpu()).ToArray()).data<long>().ToArray();
        var counts = new (long, long)?[steps.Count];
        for (int i = 0, next = 0; i < steps.Count; i++)
        {
            if (steps[i] is null) continue;
            counts[i] = (values[2 * next], values[2 * next + 1]);
            next++;
        }
        return counts;
    }

    public void Dispose()
    {
        foreach (var s in steps) s?.Dispose();
    }
}
