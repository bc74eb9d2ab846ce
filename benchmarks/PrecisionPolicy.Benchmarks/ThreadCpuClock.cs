using System;
using System.Runtime.InteropServices;

namespace PrecisionPolicy.Benchmarks;

/// <summary>
/// The calling thread's CPU time (Linux <c>CLOCK_THREAD_CPUTIME_ID</c>). With one torch thread a CPU
/// step runs all its ops, forward and backward, on the calling thread, so this is the step's own work:
/// unlike wall-clock time it does not grow while other processes hold the cores, which on a shared
/// machine is most of the spread of a ratio. (Memory-bandwidth and cache contention still count.)
/// </summary>
internal static class ThreadCpuClock
{
    private const int ThreadCpuTimeClock = 3; // CLOCK_THREAD_CPUTIME_ID

    /// <summary>True where the clock can be read (Linux).</summary>
    public static bool IsAvailable { get; } = OperatingSystem.IsLinux();

    /// <summary>The thread's CPU time so far, in milliseconds.</summary>
    public static double Milliseconds()
    {
        if (clock_gettime(ThreadCpuTimeClock, out var now) != 0)
            throw new InvalidOperationException($"clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed: errno {Marshal.GetLastPInvokeError()}.");
        return now.Seconds * 1e3 + now.Nanoseconds / 1e6;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int clock_gettime(int clockId, out TimeSpec time);
}
