using System;
using System.IO;
using System.Linq;
using System.Reflection;
using Xunit;

namespace PrecisionPolicy.Mpi.Tests;

/// <summary>The harness: jobs leave nothing behind in the temporary directory.</summary>
public sealed class MpiJobTests
{
    [Fact]
    public void A_jobs_folders_are_deleted_when_its_test_ends_whether_the_job_passed_or_failed()
    {
        var job = new MpiJob();
        var passed = job.Run(0, "world");
        Assert.True(File.Exists(Path.Combine(passed, "rank0.world")));
        var (code, _, failed) = job.Start(0, "no-such-scenario", TimeSpan.FromMinutes(2), null);
        Assert.Equal(2, code);
        Assert.Equal([passed, failed], job.Folders);
        Assert.All(job.Folders, f => Assert.StartsWith(Path.Combine(Path.GetTempPath(), MpiJob.FolderPrefix), f, StringComparison.Ordinal));

        job.Dispose();
        Assert.False(Directory.Exists(passed));
        Assert.False(Directory.Exists(failed));
        Assert.Empty(job.Folders);
    }

    [Fact]
    public void Every_test_class_that_starts_jobs_disposes_them()
    {
        // xUnit disposes a test class after each test: an MpiJob field is cleaned up only in a class that is IDisposable.
        var holders = typeof(MpiJobTests).Assembly.GetTypes()
            .Where(t => t.GetFields(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public).Any(f => f.FieldType == typeof(MpiJob)))
            .ToArray();
        Assert.True(holders.Length >= 5, $"{holders.Length} classes hold an MpiJob");
        Assert.All(holders, t => Assert.True(typeof(IDisposable).IsAssignableFrom(t), $"{t.Name} holds an MpiJob and is not IDisposable"));
    }
}
