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
    public static (int ExitCode, IReadOnlyList<string> Lines, string Errors) Run(IEnumerable<string> arguments, Action<string, Process>? onLine = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
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

    /// <summary>Sends SIGINT, what Ctrl+C in a terminal sends.</summary>
    public static void Interrupt(Process process)
    {
        if (kill(process.Id, Sigint) != 0) throw new InvalidOperationException($"kill({process.Id}, SIGINT) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
