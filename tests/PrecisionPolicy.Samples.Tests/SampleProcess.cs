using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;

namespace PrecisionPolicy.Samples.Tests;

/// <summary>
/// The sample as a separate process with its output redirected to a pipe, as when a user sends it
/// to a file or a CI log: the console is no terminal there, unlike an in-process run that swaps it.
/// </summary>
internal static class SampleProcess
{
    private const int Sigint = 2;

    // A hung sample must fail the test, not hang the run.
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Runs `addition` with <paramref name="arguments"/>, handing every line of its standard output
    /// to <paramref name="onLine"/> as it arrives; returns the exit code and all lines.
    /// </summary>
    /// <param name="interruptible">
    /// Start it with SIGINT's default disposition, as a program started from a terminal has it, so that
    /// <see cref="Interrupt"/> reaches it. A process started with SIGINT ignored keeps it ignored, and so do
    /// its children: a background job of a non-interactive shell is started so (POSIX), and with it a test
    /// host that such a job runs (`dotnet test ... &amp;` in a script). .NET then installs no Ctrl+C handler,
    /// deliberately, and the sample runs to its end whatever it is sent. `env --default-signal=INT` (GNU
    /// coreutils 8.31+) resets the disposition before the sample starts.
    /// </param>
    public static (int ExitCode, IReadOnlyList<string> Lines, string Errors) Run(IEnumerable<string> arguments, Action<string, Process>? onLine = null,
        bool interruptible = false)
    {
        var start = new ProcessStartInfo(interruptible ? "env" : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        if (interruptible)
        {
            start.ArgumentList.Add("--default-signal=INT");
            start.ArgumentList.Add("dotnet"); // env executes it in its own process: Process.Id stays the sample's
        }
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "addition.dll"));
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        using var watchdog = new Timer(_ => process.Kill(entireProcessTree: true), null, Timeout, System.Threading.Timeout.InfiniteTimeSpan);
        var errors = process.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        while (process.StandardOutput.ReadLine() is { } line)
        {
            lines.Add(line);
            onLine?.Invoke(line, process);
        }
        process.WaitForExit();
        return (process.ExitCode, lines, errors.Result);
    }

    /// <summary>
    /// Sends SIGINT, what Ctrl+C in a terminal sends; throws when the process ignores SIGINT, which would
    /// make the signal vanish without a trace (see <c>interruptible</c> of <see cref="Run"/>).
    /// </summary>
    public static void Interrupt(Process process)
    {
        if (IgnoresSigint(process.Id))
            throw new InvalidOperationException($"Process {process.Id} ignores SIGINT (it was started with SIGINT ignored): Ctrl+C cannot reach it. Start it with Run(..., interruptible: true).");
        if (kill(process.Id, Sigint) != 0) throw new InvalidOperationException($"kill({process.Id}, SIGINT) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>True when the SigIgn mask of /proc/PID/status has SIGINT's bit (Linux; elsewhere false).</summary>
    public static bool IgnoresSigint(int pid)
    {
        var status = $"/proc/{pid}/status";
        if (!File.Exists(status)) return false;
        foreach (var line in File.ReadLines(status))
            if (line.StartsWith("SigIgn:", StringComparison.Ordinal))
                return (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & (1UL << (Sigint - 1))) != 0;
        return false;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
