using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;

namespace PrecisionPolicy.Samples.Tests;

/// <summary>Runs the dotnet CLI (and shell scripts of dotnet commands) the way a user would, for the tests that build real projects.</summary>
internal static class DotnetCli
{
    // A hung restore or build must fail the test, not hang the run.
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    /// <summary>The folder holding PrecisionPolicy.sln, found upwards from the test binaries.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PrecisionPolicy.sln"))) return dir.FullName;
        throw new InvalidOperationException("PrecisionPolicy.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Runs <c>dotnet</c> with <paramref name="arguments"/>; returns its exit code and all it printed.</summary>
    public static (int ExitCode, string Output) Run(string directory, params string[] arguments) =>
        Start("dotnet", directory, arguments, environment: null);

    /// <summary>Runs <c>dotnet</c> with extra <paramref name="environment"/> variables.</summary>
    public static (int ExitCode, string Output) Run(string directory, IReadOnlyDictionary<string, string> environment, params string[] arguments) =>
        Start("dotnet", directory, arguments, environment);

    /// <summary>Runs <paramref name="script"/> with bash (-e: the first failing command fails it) in <paramref name="directory"/>.</summary>
    public static (int ExitCode, string Output) Bash(string directory, string script, IReadOnlyDictionary<string, string> environment) =>
        Start("bash", directory, new[] { "-e", "-c", script }, environment);

    private static (int ExitCode, string Output) Start(string fileName, string directory, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"timed out after {Timeout}:\n{output.Result}{error.Result}");
        }
        return (process.ExitCode, output.Result + error.Result);
    }
}
