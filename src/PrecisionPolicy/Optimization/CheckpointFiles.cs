using System;
using System.ComponentModel;
using System.IO;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Microsoft.Win32.SafeHandles;

namespace PrecisionPolicy.Optimization;

/// <summary>
/// Files of a checkpoint on disk: the temporary file a save writes beside its target, the atomic
/// replace, and the removal of temporaries that interrupted saves left behind.
/// </summary>
/// <remarks>
/// A live save holds a lock on its temporary file from before its first byte until after the rename;
/// the operating system drops the lock when the process dies, however it dies (SIGKILL included). So a
/// temporary file with bytes in it that no one holds belongs to a save that died, and is removed at once.
/// On Unix the lock is flock(2), taken by the toolkit itself (not left to FileShare, which .NET skips on
/// NFS/SMB and when DOTNET_SYSTEM_IO_DISABLEFILELOCKING is set); on Windows it is the open handle's
/// sharing mode.
/// </remarks>
internal static partial class CheckpointFiles
{
    /// <summary>
    /// Age after which a temporary file is removed even when no lock can tell whether its save is alive:
    /// an empty one (a save between creating its file and locking it, a few microseconds, leaves it so), or
    /// any on a file system without locks.
    /// </summary>
    internal static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(1);

    private const int LockShared = 1, LockExclusive = 2, LockNonBlocking = 4;

    /// <summary>A new temporary name beside <paramref name="target"/>: <c>.{name}.{32 hex digits}.tmp</c>.</summary>
    public static string TemporaryFor(string target) =>
        Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");

    /// <summary>
    /// Writes <paramref name="target"/> through a temporary file: <paramref name="write"/> fills it,
    /// it is flushed to disk, renamed over the target, and the directory is synced so the rename
    /// itself survives a power loss. The temporary file is locked (shared) from its creation until
    /// after the rename, which tells <see cref="RemoveStaleTemporaries"/> its save is alive; a shared
    /// lock, so a reader that opens the new target in that moment is not refused.
    /// </summary>
    public static void WriteAtomically(string target, Action<Stream> write)
    {
        var temp = TemporaryFor(target);
        try
        {
            // FileShare.Delete: Windows renames an open file only when its handle shares deletion.
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.Delete, 1 << 20))
            {
                if (!OperatingSystem.IsWindows()) TryLock(stream.SafeFileHandle, LockShared); // nothing written yet: see RemoveStaleTemporaries
                write(stream);
                stream.Flush(flushToDisk: true);
                File.Move(temp, target, overwrite: true); // still locked: never seen unlocked with bytes in it
                SyncDirectory(Path.GetDirectoryName(target)!);
            }
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>
    /// Deletes the temporary files that saves of <paramref name="target"/> left when their process died
    /// (a killed process cannot run its cleanup): at once when no process holds the file's lock, and
    /// never one a live save holds. Empty files, and any on a file system without locks, after
    /// <see cref="StaleAfter"/>. Returns how many were removed; files it cannot remove are left alone.
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
                var file = new FileInfo(path);
                var old = DateTime.UtcNow - file.LastWriteTimeUtc >= StaleAfter;
                // A save writes its first byte only after it holds the lock; an empty file may belong to one
                // that has created it and not yet locked it, and locking it here would make that save fail.
                if (file.Length == 0 && !old) continue;
                if (TryRemoveUnheld(path, old)) removed++;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return removed;
    }

    private static bool TryRemoveUnheld(string path, bool old)
    {
        if (OperatingSystem.IsWindows())
        {
            // Opening fails while the save's handle is open; a dead process has none.
            using (new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Delete, 1, FileOptions.DeleteOnClose)) { }
            return true;
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var held = TryLock(stream.SafeFileHandle, LockExclusive);
        if (held == false || (held is null && !old)) return false;
        File.Delete(path); // while locked: a save cannot take the file back in between
        return true;
    }

    /// <summary>flock(2) without waiting: true when locked, false when another open file holds a conflicting lock, null when the file system has no locks.</summary>
    private static bool? TryLock(SafeFileHandle handle, int operation)
    {
        if (Flock(handle, operation | LockNonBlocking) == 0) return true;
        var error = Marshal.GetLastPInvokeError();
        return error == (OperatingSystem.IsLinux() ? 11 : 35) /* EWOULDBLOCK */ ? false : null;
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

    [DllImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static extern int Flock(SafeFileHandle fd, int operation);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
