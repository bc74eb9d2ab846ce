using TorchSharp;

namespace PrecisionPolicy.Benchmarks;

/// <summary>
/// BenchmarkDotNet's in-process toolchain runs setup and benchmark on a thread of its own, and OpenMP
/// keeps the intra-op thread count per thread: Program's <c>set_num_threads(1)</c> does not reach it,
/// so an op would run on two threads and wait for the slower one on a loaded machine (TorchSharp's
/// AdamW step over 2^20 elements measured 1.5 s instead of 0.14 s that way). Every global setup calls
/// <see cref="UseOne"/> so each benchmark measures one thread, as docs/benchmarks.md's tables say.
/// </summary>
internal static class TorchThreads
{
    public static void UseOne() => torch.set_num_threads(1);
}
