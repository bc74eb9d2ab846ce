using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using Xunit;

namespace PrecisionPolicy.Tests.Native;

/// <summary>
/// The native fix as MSBuild runs it after the SDK's copy step: it patches a copy once, keeps its
/// time stamp and file mode (so the next build's copy step skips it), leaves alone a file it has
/// patched, and never writes through a hard link into the package cache.
/// </summary>
[SupportedOSPlatform("linux")] // the patch is for ELF libraries; hard links and file modes as on Linux
public sealed class NativeFixTaskTests : IDisposable
{
    private readonly DirectoryInfo work = Directory.CreateTempSubdirectory("pp-native-fix-");

    public void Dispose() => work.Delete(recursive: true);

    [Fact]
    public void Patches_a_hard_linked_copy_once_keeping_its_time_and_mode_and_not_the_linked_file()
    {
        var cache = Path.Combine(work.FullName, "cache-libLibTorchSharp.so");
        File.Copy(NativeFixTests.PackagedLibrary(), cache);
        var original = File.ReadAllBytes(cache);
        var stamp = new DateTime(2024, 5, 7, 10, 3, 28, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(cache, stamp);
        File.SetUnixFileMode(cache, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead);
        var output = Path.Combine(work.FullName, "libLibTorchSharp.so");
        Assert.Equal(0, link(cache, output)); // as CreateHardLinksForCopyLocalIfPossible copies

        var first = Run(output);
        Assert.Single(first.Messages, m => m.Contains("marked GLIBCXX_3.4.32 weak", StringComparison.Ordinal));
        Assert.Empty(first.Warnings);
        Assert.Empty(PrecisionPolicyWeakenElfVersionNeeds.Weaken(File.ReadAllBytes(output), ["GLIBCXX_3.4.32"]));
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(output));
        Assert.Equal(File.GetUnixFileMode(cache), File.GetUnixFileMode(output));
        Assert.Equal(original, File.ReadAllBytes(cache));
        Assert.Equal([output], Directory.GetFiles(work.FullName, "libLibTorchSharp.so*")); // no temporary left

        var second = Run(output);
        Assert.DoesNotContain(second.Messages, m => m.Contains("marked", StringComparison.Ordinal));
        Assert.Empty(second.Warnings);
    }

    private static RecordingBuildEngine Run(string path)
    {
        var engine = new RecordingBuildEngine();
        var task = new PrecisionPolicyWeakenElfVersionNeeds { BuildEngine = engine, Files = [new TaskItem(path)], Versions = "GLIBCXX_3.4.32" };
        Assert.True(task.Execute());
        return engine;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int link(string existing, string newPath);

    private sealed class RecordingBuildEngine : IBuildEngine
    {
        public List<string> Messages { get; } = [];
        public List<string> Warnings { get; } = [];
        public bool ContinueOnError => false;
        public int LineNumberOfTaskNode => 0;
        public int ColumnNumberOfTaskNode => 0;
        public string ProjectFileOfTaskNode => "";
        public void LogMessageEvent(BuildMessageEventArgs e) => Messages.Add(e.Message ?? "");
        public void LogWarningEvent(BuildWarningEventArgs e) => Warnings.Add(e.Message ?? "");
        public void LogErrorEvent(BuildErrorEventArgs e) => Warnings.Add("error: " + e.Message);
        public void LogCustomEvent(CustomBuildEventArgs e) { }
        public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) => false;
    }
}
