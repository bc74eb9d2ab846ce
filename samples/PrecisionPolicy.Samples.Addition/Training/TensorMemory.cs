using System;
using System.Runtime.InteropServices;

namespace PrecisionPolicy.Samples.Addition.Training;

/// <summary>
/// Peak tensor memory of one training run: the bytes the C heap has handed out, above what it held
/// when the run started, at the high points of each step. On CPU libtorch allocates every tensor
/// with the C allocator (posix_memalign), so glibc's <c>mallinfo2()</c> (bytes in use in all arenas
/// plus mmapped chunks) follows tensor memory to the byte, while the GC's numbers miss it and the
/// process's resident size keeps pages glibc cached after an earlier run freed them. The high point
/// of a step is the end of forward, when every activation saved for backward is alive: backward frees
/// them as it goes while the weight, gradient, master and optimizer buffers keep their size, so the
/// end of the optimizer step is sampled too (the first step allocates the optimizer state).
/// Other native allocations of the process during a run (a few KB) count as well. Glibc only; 0 elsewhere.
/// </summary>
public sealed class TensorMemory
{
    private readonly long start;
    private long peak;

    private TensorMemory(long start) => (this.start, peak) = (start, start);

    /// <summary>Starts measuring from the heap's current use (before the run's model is built).</summary>
    public static TensorMemory Start() => new(InUse());

    /// <summary>Records the heap's current use if it is the highest so far.</summary>
    public void Sample() => peak = Math.Max(peak, InUse());

    /// <summary>Highest use sampled, above the start; 0 where mallinfo2 is not available.</summary>
    public long PeakBytes => peak - start;

    private static long InUse()
    {
        try
        {
            var info = MallInfo2();
            return (long)(info.Uordblks + info.Hblkhd);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return 0; // not glibc (or older than 2.33)
        }
    }

    // struct mallinfo2 from <malloc.h>, glibc 2.33+: ten size_t fields.
    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2Result
    {
        public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
    }

    [DllImport("libc.so.6", EntryPoint = "mallinfo2")]
    private static extern MallInfo2Result MallInfo2();
}
