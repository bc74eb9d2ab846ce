using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using Xunit;

namespace PrecisionPolicy.Mpi.Tests;

/// <summary>
/// Starts the test app under <c>mpiexec -n N</c> (or alone) and hands back what it wrote. Each test holds one instance
/// (a field of its class, which xUnit disposes when the test ends): disposing it deletes every output folder its jobs
/// made under the temporary directory, whether the test passed or failed.
/// </summary>
internal sealed class MpiJob : IDisposable
{
    /// <summary>The prefix of the output folders under the temporary directory.</summary>
    public const string FolderPrefix = "pp-mpi-";

    private readonly List<string> folders = new();

    /// <summary>The output folders of this instance's jobs that still exist.</summary>
    public IReadOnlyList<string> Folders => folders.Where(Directory.Exists).ToArray();

    public static string AppPath => typeof(MpiJob).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "MpiTestApp").Value!;

    /// <summary>The output folder of a job of <paramref name="ranks"/> ranks; fails the test if the job fails.</summary>
    public string Run(int ranks, string scenario, params string[] options)
    {
        var (code, output, folder) = Start(ranks, scenario, TimeSpan.FromMinutes(8), null, options);
        Assert.True(code == 0, $"mpiexec -n {ranks} {scenario} exited with {code}:\n{output}");
        return folder;
    }

    /// <summary>Runs the job (ranks = 0: the app alone, no mpiexec) and returns its exit code, output and folder.</summary>
    public (int ExitCode, string Output, string Folder) Start(int ranks, string scenario, TimeSpan timeout, IDictionary<string, string>? environment, params string[] options)
    {
        var folder = Directory.CreateTempSubdirectory(FolderPrefix).FullName;
        folders.Add(folder); // before anything can fail: Dispose deletes it
        var app = AppPath;
        Assert.True(File.Exists(app), $"The test app is not built at {app}: build the solution first.");
        var start = ranks == 0 ? new ProcessStartInfo("dotnet") : new ProcessStartInfo(Mpiexec());
        if (ranks > 0)
        {
            start.ArgumentList.Add("-n");
            start.ArgumentList.Add(ranks.ToString(System.Globalization.CultureInfo.InvariantCulture));
            start.ArgumentList.Add("dotnet");
        }
        start.ArgumentList.Add(app);
        start.ArgumentList.Add(scenario);
        start.ArgumentList.Add(folder);
        foreach (var o in options) start.ArgumentList.Add(o);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) start.Environment[k] = v;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{scenario} on {ranks} ranks did not end within {timeout}.");
        }
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result, folder);
    }

    /// <summary>Deletes the output folders (checkpoints, shards and every rank's files).</summary>
    public void Dispose()
    {
        foreach (var folder in folders)
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        folders.Clear();
    }

    // MPICH's launcher: an MPI test that cannot start one fails and says how to install it.
    private static string Mpiexec()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
            foreach (var name in new[] { "mpiexec.mpich", "mpiexec" })
                if (dir.Length > 0 && File.Exists(Path.Combine(dir, name))) return Path.Combine(dir, name);
        Assert.Fail("mpiexec is not installed, so the MPI tests cannot run: install MPICH (apt-get install -y mpich as root; the build does it when it runs as root).");
        return "";
    }

    public static byte[] Bytes(string folder, int rank, string name) => File.ReadAllBytes(Path.Combine(folder, $"rank{rank}.{name}.bin"));

    public static float[] Floats(string folder, int rank, string name) => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(Bytes(folder, rank, name)).ToArray();

    public static string Text(string folder, int rank, string name) => File.ReadAllText(Path.Combine(folder, $"rank{rank}.{name}"));
}
