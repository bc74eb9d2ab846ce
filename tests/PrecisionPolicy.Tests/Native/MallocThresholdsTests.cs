using System;
using System.Collections.Generic;
using PrecisionPolicy.Native;
using Xunit;

namespace PrecisionPolicy.Tests.Native;

/// <summary>When the toolkit sets glibc's malloc thresholds and when it leaves them alone.</summary>
public sealed class MallocThresholdsTests
{
    private static Func<string, string?> Environment(params (string Name, string Value)[] variables)
    {
        var values = new Dictionary<string, string>();
        foreach (var (name, value) in variables) values[name] = value;
        return name => values.GetValueOrDefault(name);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("on")]
    [InlineData(" ON ")]
    public void Glibc_without_settings_of_its_own_gets_the_thresholds(string? setting) =>
        Assert.Equal(MallocThresholdsOutcome.Set, MallocThresholds.Decide(setting, glibc: true, Environment()));

    [Theory]
    [InlineData("off")]
    [InlineData("Off")]
    public void Off_keeps_glibc_own_thresholds(string setting) =>
        Assert.Equal(MallocThresholdsOutcome.KeptByRequest, MallocThresholds.Decide(setting, glibc: true, Environment()));

    [Theory]
    [InlineData("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=1073741824")]
    [InlineData("GLIBC_TUNABLES", "glibc.cpu.hwcaps=-AVX512F:glibc.malloc.arena_max=2")]
    [InlineData("MALLOC_TRIM_THRESHOLD_", "131072")]
    [InlineData("MALLOC_MMAP_THRESHOLD_", "131072")]
    public void Settings_the_process_started_with_are_left_alone(string name, string value) =>
        Assert.Equal(MallocThresholdsOutcome.UserSettings, MallocThresholds.Decide(null, glibc: true, Environment((name, value))));

    [Fact]
    public void Tunables_for_other_glibc_parts_do_not_count_as_malloc_settings() =>
        Assert.Equal(MallocThresholdsOutcome.Set,
            MallocThresholds.Decide(null, glibc: true, Environment(("GLIBC_TUNABLES", "glibc.cpu.hwcaps=-AVX512F"))));

    [Fact]
    public void Another_c_library_is_left_alone() =>
        Assert.Equal(MallocThresholdsOutcome.NotGlibc, MallocThresholds.Decide(null, glibc: false, Environment()));

    [Theory]
    [InlineData("no")]
    [InlineData("1")]
    [InlineData("offf")]
    public void A_value_other_than_on_or_off_is_refused_by_name(string setting)
    {
        var error = Assert.Throws<InvalidOperationException>(() => MallocThresholds.Decide(setting, glibc: true, Environment()));
        Assert.Contains(MallocThresholds.EnvironmentVariable, error.Message);
        Assert.Contains($"'{setting}'", error.Message);
    }

    [Fact]
    public void Describe_names_what_the_process_runs_with() =>
        Assert.Contains(MallocThresholds.Current switch
        {
            MallocThresholdsOutcome.Set => "set by PrecisionPolicy",
            MallocThresholdsOutcome.NotYet => "no 16-bit policy",
            MallocThresholdsOutcome.UserSettings => "as the environment sets it",
            MallocThresholdsOutcome.KeptByRequest => "=off",
            MallocThresholdsOutcome.NotGlibc => "not glibc",
            _ => "refused",
        }, MallocThresholds.Describe());
}
