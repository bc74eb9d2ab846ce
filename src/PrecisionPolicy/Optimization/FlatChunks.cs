using System;
using System.Collections.Generic;

namespace PrecisionPolicy;

/// <summary>
/// How the flat layout hands the master buffer to the inner optimizer: as consecutive chunks of at
/// most <see cref="Elements"/> elements, one parameter each. An element-wise optimizer (AdamW: 4
/// reads and 3 writes of FP32 per element) then runs each of its ops over a chunk whose master,
/// gradient and two moments, with the temporaries of the update, fit in a core's L2 cache, instead
/// of streaming the whole buffer from memory once per op. The op count is the chunk count times the
/// optimizer's ops per parameter: it follows the number of elements, never the number of tensors.
/// Each element sees the same ops in the same order as over one flat parameter, so the result is
/// bitwise the same.
/// </summary>
internal static class FlatChunks
{
    /// <summary>
    /// 2^15 FP32 elements = 128 KiB per array: AdamW's ~6 live arrays (master, gradient, two moments,
    /// two temporaries) take ~768 KiB, inside the 1 MiB of L2 per core that current x86 server cores
    /// have and mostly inside 512 KiB ones; chunks much smaller than this add per-op overhead (~5 µs
    /// a TorchSharp op) faster than they save memory traffic.
    /// </summary>
    public const long Elements = 1L << 15;

    /// <summary>(start, length) of each chunk of a buffer of <paramref name="total"/> elements.</summary>
    public static IEnumerable<(long Start, long Length)> Of(long total)
    {
        for (long start = 0; start < total; start += Elements)
            yield return (start, Math.Min(Elements, total - start));
    }
}
