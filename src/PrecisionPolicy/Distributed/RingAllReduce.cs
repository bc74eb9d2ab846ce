using System.Collections.Generic;
using System.Linq;
using System;
using PrecisionPolicy.Casting;
using static TorchSharp.torch;

namespace PrecisionPolicy.Distributed;

/// <summary>
/// The arithmetic of a ring all-reduce, on one machine: the flat gradient is cut into one chunk per
/// rank, and chunk c is summed in the order a ring reduce-scatter visits the ranks (c, c+1, ...,
/// c+K-1 mod K), every partial sum rounded to the reduce dtype, as the wire and the receiving
/// rank's add would round it.
/// </summary>
public static class RingAllReduce
{
    /// <summary>The ring sum of equally shaped per-rank gradients, computed in <paramref name="reduceDtype"/>, returned as float32.</summary>
    public static Tensor Sum(IReadOnlyList<Tensor> rankGradients, ScalarType reduceDtype)
    {
        ArgumentNullException.ThrowIfNull(rankGradients);
        if (rankGradients.Count == 0) throw new ArgumentException("At least one rank's gradient is needed.", nameof(rankGradients));
        if (!AutocastDtypes.IsCastable(reduceDtype))
            throw new ArgumentOutOfRangeException(nameof(reduceDtype), $"The reduce dtype must be float32, bfloat16 or float16 (was {reduceDtype}).");
        var count = rankGradients[0].numel();
        if (rankGradients.Any(g => g.numel() != count))
            throw new ArgumentException($"Every rank's gradient must have {count} elements, as rank 0's has.", nameof(rankGradients));

        var ranks = rankGradients.Count;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var chunks = rankGradients.Select(g => g.flatten().to(reduceDtype).tensor_split(ranks)).ToArray();
        var sums = new Tensor[ranks];
        for (var c = 0; c < ranks; c++)
        {
            var sum = chunks[c][c].clone();
            for (var step = 1; step < ranks; step++)
                sum = sum.add(chunks[(c + step) % ranks][c]); // stays in reduceDtype: each add rounds
            sums[c] = sum;
        }
        return cat(sums).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }
}
