using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace PrecisionPolicy.Native;

/// <summary>
/// Fixes glibc malloc's thresholds for the process the first time a 16-bit policy is applied: blocks up to
/// <see cref="MmapThresholdBytes"/> come from the heap, up to <see cref="TrimThresholdBytes"/> of free heap top
/// stays in the process instead of going back to the kernel, and <see cref="TopPadBytes"/> of each per-thread heap
/// too.
/// </summary>
/// <remarks>
/// libtorch allocates every CPU tensor with malloc. A 16-bit step under <c>Fp32Accumulate</c> makes more short-lived
/// tensors than the FP32 step (each GEMM's and convolution's widened operands and its result), and with glibc's own
/// thresholds (which it raises by itself, to at most 32 MB and 64 MB of free top) their memory goes back to the
/// kernel and is mapped and zeroed anew on the next step: a TorchVision ResNet-18 step at batch 64 took ~20,000 page
/// faults, and the BF16 step 1.4–2.5× the FP32 one instead of 1.1×. Freed memory then stays in the process for
/// reuse, as under any caching allocator: the process keeps the peak of its heap instead of handing it back between
/// steps. Left alone: a process whose <c>GLIBC_TUNABLES</c> or <c>MALLOC_*_</c> variables set malloc's thresholds
/// already, a C library other than glibc, and <see cref="EnvironmentVariable"/>=<c>off</c>.
/// </remarks>
public static class MallocThresholds
{
    /// <summary>Blocks below this size are taken from the heap, not mapped one by one (glibc's largest automatic value).</summary>
    public const int MmapThresholdBytes = 32 << 20;

    /// <summary>Free memory at the main heap's top up to this size stays in the process (a step's tensors come and go by less).</summary>
    public const int TrimThresholdBytes = 512 << 20;

    /// <summary>The environment variable that keeps glibc's own thresholds when set to <c>off</c> (<c>on</c>, the default, sets them).</summary>
    public const string EnvironmentVariable = "PRECISIONPOLICY_MALLOC_THRESHOLDS";

    /// <summary>
    /// Free memory kept at the top of a heap when glibc trims it. glibc deletes a wholly free per-thread heap (at most
    /// 64 MB) when the heap below it has this much room, whatever the trim threshold: at 64 MB it never does.
    /// </summary>
    public const int TopPadBytes = 64 << 20;

    private const int TrimThresholdParameter = -1; // M_TRIM_THRESHOLD
    private const int TopPadParameter = -2; // M_TOP_PAD
    private const int MmapThresholdParameter = -3; // M_MMAP_THRESHOLD

    private static readonly Lazy<MallocThresholdsOutcome> Outcome = new(SetOnce, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Sets the thresholds once per process unless they are left alone (see remarks); returns what happened.</summary>
    /// <exception cref="InvalidOperationException"><see cref="EnvironmentVariable"/> holds something other than <c>on</c> or <c>off</c>.</exception>
    public static MallocThresholdsOutcome EnsureSet()
    {
        // A bad value is refused on every call, not only the first.
        IsOff(Environment.GetEnvironmentVariable(EnvironmentVariable));
        return Outcome.Value;
    }

    /// <summary>What <see cref="EnsureSet"/> did, or <see cref="MallocThresholdsOutcome.NotYet"/>.</summary>
    public static MallocThresholdsOutcome Current => Outcome.IsValueCreated ? Outcome.Value : MallocThresholdsOutcome.NotYet;

    /// <summary>One line for reports: the allocator settings the process runs with.</summary>
    public static string Describe() => Current switch
    {
        MallocThresholdsOutcome.Set => $"glibc malloc thresholds set by PrecisionPolicy (mmap {MmapThresholdBytes >> 20} MB, trim {TrimThresholdBytes >> 20} MB, top pad {TopPadBytes >> 20} MB)",
        MallocThresholdsOutcome.UserSettings => $"glibc malloc as the environment sets it ({UserSettingsText()})",
        MallocThresholdsOutcome.KeptByRequest => $"glibc malloc defaults ({EnvironmentVariable}=off)",
        MallocThresholdsOutcome.NotGlibc => "not glibc: the C library's own allocator settings",
        MallocThresholdsOutcome.Failed => "glibc malloc defaults (mallopt refused the thresholds)",
        _ => "glibc malloc defaults (no 16-bit policy applied yet)",
    };

    /// <summary>
    /// The decision, from the opt-out variable's value, whether the C library is glibc, and the environment: which
    /// outcome setting would have, with <see cref="MallocThresholdsOutcome.Set"/> meaning "set them".
    /// </summary>
    internal static MallocThresholdsOutcome Decide(string? optOut, bool glibc, Func<string, string?> environment)
    {
        if (IsOff(optOut)) return MallocThresholdsOutcome.KeptByRequest;
        if (!glibc) return MallocThresholdsOutcome.NotGlibc;
        return SetByEnvironment(environment) ? MallocThresholdsOutcome.UserSettings : MallocThresholdsOutcome.Set;
    }

    private static bool IsOff(string? setting)
    {
        var value = setting?.Trim();
        if (string.IsNullOrEmpty(value) || string.Equals(value, "on", StringComparison.OrdinalIgnoreCase)) return false;
        if (string.Equals(value, "off", StringComparison.OrdinalIgnoreCase)) return true;
        throw new InvalidOperationException($"{EnvironmentVariable}='{setting}' is not a setting: use on (the default) or off, or unset it.");
    }

    // glibc reads GLIBC_TUNABLES' glibc.malloc.* and the older MALLOC_TRIM_THRESHOLD_/MALLOC_MMAP_THRESHOLD_ at start-up;
    // a process started with them has chosen its allocator settings.
    private static bool SetByEnvironment(Func<string, string?> environment) =>
        (environment("GLIBC_TUNABLES")?.Contains("glibc.malloc.", StringComparison.Ordinal) ?? false)
        || !string.IsNullOrEmpty(environment("MALLOC_TRIM_THRESHOLD_"))
        || !string.IsNullOrEmpty(environment("MALLOC_MMAP_THRESHOLD_"));

    private static string UserSettingsText() =>
        Environment.GetEnvironmentVariable("GLIBC_TUNABLES") is { Length: > 0 } tunables ? $"GLIBC_TUNABLES={tunables}" : "MALLOC_*_ variables";

    private static MallocThresholdsOutcome SetOnce()
    {
        var decision = Decide(Environment.GetEnvironmentVariable(EnvironmentVariable), IsGlibc(), Environment.GetEnvironmentVariable);
        if (decision != MallocThresholdsOutcome.Set) return decision;
        // Either threshold set alone turns off glibc's automatic adjustment of both, leaving the other at its 128 KB start:
        // every block above that would then be mapped anew. The top pad is for the other threads: their per-thread heaps
        // (at most 64 MB each) are unmapped when wholly free and the heap below has top-pad room, whatever the trim threshold.
        return mallopt(MmapThresholdParameter, MmapThresholdBytes) == 1 && mallopt(TrimThresholdParameter, TrimThresholdBytes) == 1
            && mallopt(TopPadParameter, TopPadBytes) == 1
            ? MallocThresholdsOutcome.Set
            : MallocThresholdsOutcome.Failed;
    }

    private static bool IsGlibc()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            return gnu_get_libc_version() != IntPtr.Zero;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false; // musl and other C libraries
        }
    }

    [DllImport("libc", ExactSpelling = true)]
    private static extern int mallopt(int parameter, int value);

    [DllImport("libc", ExactSpelling = true)]
    private static extern IntPtr gnu_get_libc_version();
}

/// <summary>What <see cref="MallocThresholds.EnsureSet"/> did.</summary>
public enum MallocThresholdsOutcome
{
    /// <summary>No 16-bit policy has been applied in this process yet.</summary>
    NotYet,

    /// <summary>The thresholds are set.</summary>
    Set,

    /// <summary>The process started with malloc settings of its own (<c>GLIBC_TUNABLES</c>, <c>MALLOC_*_</c>): left alone.</summary>
    UserSettings,

    /// <summary><see cref="MallocThresholds.EnvironmentVariable"/>=<c>off</c>: glibc's own thresholds kept.</summary>
    KeptByRequest,

    /// <summary>The C library is not glibc (or the OS not Linux): left alone.</summary>
    NotGlibc,

    /// <summary>glibc refused a value; its own thresholds stay.</summary>
    Failed,
}
