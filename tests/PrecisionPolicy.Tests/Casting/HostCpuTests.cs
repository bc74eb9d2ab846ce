using System;
using System.Linq;
using System.Runtime.Intrinsics.X86;
using PrecisionPolicy.Casting;
using Xunit;

namespace PrecisionPolicy.Tests.Casting;

/// <summary><see cref="HostCpu"/>'s flags come from the runtime; on Linux they must agree with /proc/cpuinfo.</summary>
public sealed class HostCpuTests
{
    [Fact]
    public void Every_flag_the_runtime_answers_agrees_with_proc_cpuinfo()
    {
        var detected = CpuFeatures.Detect();
        Assert.NotEmpty(detected); // x86 and ARM both answer some
        var listed = HostCpu.ListedFlags(HostCpu.ReadCpuInfo());
        Assert.Equal(OperatingSystem.IsLinux(), listed is not null);
        if (listed is null) return; // no /proc/cpuinfo to compare with off Linux
        var disagreements = detected.Where(f => f.Value != listed.Contains(f.Key)).Select(f => $"{f.Key}: runtime {f.Value}, /proc/cpuinfo {!f.Value}");
        Assert.Empty(disagreements);
    }

    [Fact]
    public void The_flags_are_the_runtimes_answers_where_it_has_them()
    {
        foreach (var (flag, has) in CpuFeatures.Detect()) Assert.Equal(has, HostCpu.Has(flag));
        Assert.Equal(Avx2.IsSupported, HostCpu.Has("avx2"));
    }

    [Fact]
    public void The_model_is_the_brand_string_else_what_proc_cpuinfo_shows()
    {
        // Some hypervisors leave the brand leaves empty: then the model comes from /proc/cpuinfo. Others give the two
        // different names (seen: CPUID "Oxide Virtual Turin-like Processor", /proc/cpuinfo "AMD EPYC"): CPUID wins.
        var listed = HostCpu.Field(HostCpu.ReadCpuInfo(), "model name");
        if (CpuFeatures.BrandString() is { } brand) Assert.Equal(brand, HostCpu.Model);
        else if (listed is not null) Assert.Equal(listed, HostCpu.Model);
        else Assert.False(string.IsNullOrEmpty(HostCpu.Model));
    }
}
