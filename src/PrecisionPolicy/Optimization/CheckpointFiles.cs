using System;
using System.ComponentModel;
using System.IO;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace PrecisionPolicy;

/// <summary>
/// Files of a checkpoint on disk: the temporary file a save writes beside its target, the atomic
/// replace, and the removal of temporaries that interrupted saves left behind.
/// </summary>
internal static partial class CheckpointFiles
{
    /// <summary>A temporary file untouched this long and locked by no one belongs to a save that died.</summary>
    internal static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(1);

    /// <summary>A new temporary name beside <paramref name="target"/>: <c>.{name}.{32 hex digits}.tmp</c>.</summary>
    public static string TemporaryFor(string target) =>
        Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");

    /// <summary>
    /// Writes <paramref name="target"/> through a temporary file: <paramref name="write"/> fills it,
    /// it is flushed to disk, renamed over the target, and the directory is synced so the rename
    /// itself survives a power loss. The temporary file is locked while it is written (FileShare.None
    /// takes an advisory lock on Unix), which tells <see cref="RemoveStaleTemporaries"/> it is alive.
    /// </summary>
    public static void WriteAtomically(string target, Action<Stream> write)
    {
        var temp = TemporaryFor(target);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, target, overwrite: true);
            SyncDirectory(Path.GetDirectoryName(target)!);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>
    /// Deletes the temporary files of saves of <paramref name="target"/> that were interrupted (a
    /// killed process cannot run its cleanup): those untouched for <see cref="StaleAfter"/> that no
    /// process holds open. Returns how many were removed; files it cannot remove are left alone.
    /// </summary>
    public static int RemoveStaleTemporaries(string target)
    {
        var directory = Path.GetDirectoryName(target)!;
        if (!Directory.Exists(directory)) return 0;
        var name = Path.GetFileName(target);
        var removed = 0;
        foreach (var path in Directory.EnumerateFiles(directory, $".{name}.*.tmp"))
        {
            var middle = Path.GetFileName(path)[(name.Length + 2)..^4];
            if (!TemporaryId().IsMatch(middle)) continue;
            try
            {
                if (DateTime.UtcNow - File.GetLastWriteTimeUtc(path) < StaleAfter) continue;
                // Opening with FileShare.None fails while a live save holds its lock.
                using (new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None)) File.Delete(path);
                removed++;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return removed;
    }

    /// <summary>
    /// fsync of a directory, so a rename in it is durable. .NET cannot open a directory
    /// (FileStream and File.OpenHandle throw UnauthorizedAccessException), so on Linux and macOS
    /// this calls libc's open/fsync/close. Windows has no directory fsync (NTFS journals the rename).
    /// </summary>
    public static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows()) return;
        var fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0) throw new IOException($"Could not open directory '{directory}' to sync it: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}.");
        try
        {
            if (Fsync(fd) != 0)
                throw new IOException($"Could not sync directory '{directory}': {new Win32Exception(Marshal.GetLastPInvokeError()).Message}.");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex TemporaryId();

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
