using System;
using System.Runtime.InteropServices;

namespace PrecisionPolicy.Native;

/// <summary>
/// The calling thread's minor page faults so far (Linux <c>getrusage(RUSAGE_THREAD)</c>'s <c>ru_minflt</c>): pages the
/// kernel had to map and zero because the C allocator had handed memory back to it. libtorch allocates every CPU tensor
/// with malloc; with glibc's own thresholds a step whose tensors come and go by more than it keeps maps its memory anew
/// each time (<see cref="MallocThresholds"/>). On a virtual machine a fault costs ~10–20 µs of the thread's CPU time:
/// thousands per step are a visible share of a step, and in a time ratio which side pays them depends on the heap,
/// not on the code measured.
/// </summary>
public static class ThreadPageFaults
{
    private const int ThreadUsage = 1; // RUSAGE_THREAD
    private const int MinorFaultsField = 8; // ru_minflt, after two timevals and four longs

    /// <summary>True where the count can be read (Linux).</summary>
    public static bool IsAvailable { get; } = OperatingSystem.IsLinux();

    /// <summary>The thread's minor page faults so far.</summary>
    public static long Count()
    {
        var usage = new long[18]; // struct rusage on 64-bit Linux: 18 longs
        if (getrusage(ThreadUsage, usage) != 0)
            throw new InvalidOperationException($"getrusage(RUSAGE_THREAD) failed: errno {Marshal.GetLastPInvokeError()}.");
        return usage[MinorFaultsField];
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int getrusage(int who, [Out] long[] usage);
}
