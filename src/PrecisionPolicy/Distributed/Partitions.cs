using System;
using System.Collections.Generic;

namespace PrecisionPolicy.Distributed;

/// <summary>
/// How a flat buffer is cut into one part per rank: the first <c>n mod N</c> parts one element longer,
/// as <c>torch.tensor_split</c> cuts it, so the parts of the gradient reduce-scatter, the sharded masters
/// (ZeRO) and <see cref="RingAllReduce"/>'s chunks are the same.
/// </summary>
public static class Partitions
{
    /// <summary>(start, length) of each of <paramref name="ranks"/> parts of <paramref name="elements"/> elements.</summary>
    public static IReadOnlyList<(long Start, long Length)> Of(long elements, int ranks)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(elements);
        ArgumentOutOfRangeException.ThrowIfLessThan(ranks, 1);
        var parts = new (long, long)[ranks];
        long start = 0;
        for (var r = 0; r < ranks; r++)
        {
            var length = elements / ranks + (r < elements % ranks ? 1 : 0);
            parts[r] = (start, length);
            start += length;
        }
        return parts;
    }
}
