using System;
using System.Diagnostics;
using System.IO;

namespace PrecisionPolicy.Samples.Tests;

/// <summary>Runs the dotnet CLI the way a user would, for the tests that build real projects.</summary>
internal static class DotnetCli
{
    /// <summary>The folder holding PrecisionPolicy.sln, found upwards from the test binaries.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PrecisionPolicy.sln"))) return dir.FullName;
        throw new InvalidOperationException("PrecisionPolicy.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Runs <c>dotnet</c> with <paramref name="arguments"/>; returns its exit code and all it printed.</summary>
    public static (int ExitCode, string Output) Run(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet", arguments)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd() + error.Result;
        process.WaitForExit();
        return (process.ExitCode, output);
    }
}
