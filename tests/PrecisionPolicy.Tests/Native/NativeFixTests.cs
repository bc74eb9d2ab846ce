using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Xunit;

namespace PrecisionPolicy.Tests.Native;

/// <summary>The build step that makes TorchSharp's native library load on libstdc++ 12 (build/WeakenElfVersionNeeds.cs).</summary>
public sealed class NativeFixTests
{
    private static readonly HashSet<string> Glibcxx3432 = ["GLIBCXX_3.4.32"];

    internal static string PackagedLibrary()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                       ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
    }

    [Fact]
    public void Marks_exactly_the_glibcxx_3_4_32_need_weak_and_a_second_pass_changes_nothing()
    {
        var original = File.ReadAllBytes(PackagedLibrary());
        var patched = (byte[])original.Clone();

        Assert.Equal(["GLIBCXX_3.4.32"], PrecisionPolicyWeakenElfVersionNeeds.Weaken(patched, Glibcxx3432));
        var changed = Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).ToArray();
        var offset = Assert.Single(changed); // one flags byte
        Assert.Equal(original[offset] | 0x2, patched[offset]);

        var again = (byte[])patched.Clone();
        Assert.Empty(PrecisionPolicyWeakenElfVersionNeeds.Weaken(again, Glibcxx3432));
        Assert.Equal(patched, again);
    }

    [Fact]
    public void The_copy_in_this_test_output_was_patched_by_the_build()
    {
        var copy = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so"));
        Assert.Empty(PrecisionPolicyWeakenElfVersionNeeds.Weaken(copy, Glibcxx3432));
    }

    [Fact]
    public void A_file_that_is_not_elf64_is_refused()
    {
        Assert.Throws<InvalidDataException>(() => PrecisionPolicyWeakenElfVersionNeeds.Weaken(new byte[128], Glibcxx3432));
    }
}
