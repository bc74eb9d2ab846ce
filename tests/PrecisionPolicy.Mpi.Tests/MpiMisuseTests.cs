using System;
using System.Linq;
using Xunit;

namespace PrecisionPolicy.Mpi.Tests;

/// <summary>Ranks that disagree and ranks that die: errors on every rank, never a hang.</summary>
public sealed class MpiMisuseTests : IDisposable
{
    private readonly MpiJob job = new(); // its folders are deleted when the test ends

    [Fact]
    public void Ranks_with_different_parameters_are_refused_on_every_rank_naming_the_first_difference()
    {
        var folder = job.Run(3, "disagree");
        foreach (var rank in Enumerable.Range(0, 3))
        {
            var message = MpiJob.Text(folder, rank, "disagree.txt");
            Assert.Contains("rank 0 has parameter 0: 'fc1.weight' [16, 8] Float32, rank 2 has parameter 0: 'fc1.weight' [17, 8] Float32", message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("crash", "BAD TERMINATION")] // Hydra kills the job when a rank is killed
    [InlineData("exit", "exit code 3")] // a rank exiting with an error aborts the job instead of finalizing
    [InlineData("leave", "waited 15 s for the other ranks")] // the others' collective watchdog aborts the job
    public void A_rank_that_stops_ends_the_job_with_an_error_within_bounded_time(string how, string message)
    {
        var env = new System.Collections.Generic.Dictionary<string, string> { ["PRECISIONPOLICY_MPI_TIMEOUT_SECONDS"] = "15" };
        var (code, output, _) = job.Start(3, "die", TimeSpan.FromMinutes(3), env, $"how={how}");
        Assert.NotEqual(0, code);
        Assert.Contains(message, output, StringComparison.Ordinal);
    }

    [Fact]
    public void Ranks_with_different_policies_are_refused_on_every_rank()
    {
        var folder = job.Run(3, "generated", "policy=other");
        foreach (var rank in Enumerable.Range(0, 3))
            Assert.StartsWith("Data-parallel ranks disagree: rank 0 has reduce dtype BFloat16, rank 2 has reduce dtype Float32", MpiJob.Text(folder, rank, "generated.txt"), StringComparison.Ordinal);
    }

    [Fact]
    public void Zero_stage_3_is_refused_on_every_rank_with_its_plan()
    {
        // 1,010 parameters on 2 ranks: 16 bytes each unsharded (16,160), stage 2 keeps the 2-byte weights whole
        // (2,020 + 14 x 1,010 / 2 = 9,090), stage 3 divides everything (8,080).
        var folder = job.Run(2, "zero", "stage=3");
        foreach (var rank in Enumerable.Range(0, 2))
        {
            var message = MpiJob.Text(folder, rank, "zero.txt");
            Assert.StartsWith("ZeRO stage 3 (FSDP FULL_SHARD) is not implemented", message, StringComparison.Ordinal);
            Assert.Contains("1,010 parameters on 2 ranks: 8,080 bytes per rank", message, StringComparison.Ordinal);
            Assert.Contains("against 9,090 at stage 2 and 16,160 unsharded", message, StringComparison.Ordinal);
        }
    }

    public void Dispose() => job.Dispose();
}
