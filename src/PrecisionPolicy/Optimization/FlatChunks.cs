using System;
using System.Collections.Generic;

namespace PrecisionPolicy.Optimization;

/// <summary>
/// How the flat layout hands the master buffer to the inner optimizer: as consecutive chunks of at
/// most <see cref="Elements"/> elements, one parameter each. An element-wise optimizer (AdamW: 4
/// reads and 3 writes of FP32 per element) then runs each of its ops over a chunk whose master,
/// gradient and two moments, with the temporaries of the update, stay in cache, instead
/// of streaming the whole buffer from memory once per op. The op count is the chunk count times the
/// optimizer's ops per parameter: it follows the number of elements, never the number of tensors.
/// Each element sees the same ops in the same order as over one flat parameter, so the result is
/// bitwise the same.
/// </summary>
internal static class FlatChunks
{
    /// <summary>
    /// 2^17 FP32 elements = 512 KiB per array: AdamW's ~6 live arrays (master, gradient, two moments,
    /// two temporaries) take ~3 MiB, well inside a server CPU's L3 share, while a 2^22-element buffer's
    /// state (64 MiB) is not. Smaller chunks would fit L2 but multiply the per-op cost of TorchSharp's
    /// optimizer loop (several µs per op, ~8 ops per parameter): at 2^22 elements this is 32 chunks,
    /// against the 1000 parameters a per-tensor step walks. Measured for the whole mixed-precision
    /// step at 2^22 elements (thread CPU time): 2^15 to 2^17 alike, 2^14 and 2^18 slower. With AdamW
    /// run by the toolkit (two passes per chunk), 2^15 to 2^18 measure alike.
    /// </summary>
    public const long Elements = 1L << 17;

    /// <summary>(start, length) of each chunk of a buffer of <paramref name="total"/> elements.</summary>
    public static IEnumerable<(long Start, long Length)> Of(long total)
    {
        for (long start = 0; start < total; start += Elements)
            yield return (start, Math.Min(Elements, total - start));
    }
}
