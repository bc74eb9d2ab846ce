using System;
using System.IO;
using System.Linq;

namespace PrecisionPolicy.Samples.Addition.Training;

/// <summary>
/// Peak resident memory of this process (libtorch allocates natively, so the GC's numbers miss it).
/// Linux only: reset through /proc/self/clear_refs, read as VmHWM; 0 elsewhere.
/// </summary>
public static class PeakMemory
{
    public static void Reset()
    {
        try
        {
            if (File.Exists("/proc/self/clear_refs")) File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not allowed here (some containers): the peak then covers the whole process.
        }
    }

    public static long Read()
    {
        if (!File.Exists("/proc/self/status")) return 0;
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        var kilobytes = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        return kilobytes is null ? 0 : long.Parse(kilobytes) * 1024;
    }
}
