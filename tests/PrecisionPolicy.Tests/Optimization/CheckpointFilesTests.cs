using System;
using System.IO;
using System.Linq;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Optimization;

/// <summary>Temporary files of interrupted saves, the atomic replace and the directory sync.</summary>
[Collection(PrecisionPolicy.Tests.Casting.GemmModeCollection.Name)]
public sealed class CheckpointFilesTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("pp-ckpt-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private string Target => Path.Combine(directory, "model.ckpt");

    /// <summary>A temporary file as a save killed mid-write leaves it: the right name, unlocked, last written long ago.</summary>
    private string Interrupted(DateTime lastWrite)
    {
        var path = CheckpointFiles.TemporaryFor(Target);
        File.WriteAllBytes(path, new byte[1000]);
        File.SetLastWriteTimeUtc(path, lastWrite);
        return path;
    }

    private static string[] Names(string dir) => Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    [Fact]
    public void Save_and_load_remove_temporaries_of_interrupted_saves_and_keep_live_or_foreign_files()
    {
        using var layer = nn.Linear(3, 2);
        using var opt = new MasterWeightOptimizer(layer, ps => optim.SGD(ps, 0.1));
        var old = DateTime.UtcNow - TimeSpan.FromHours(1);
        var stale = Enumerable.Range(0, 3).Select(_ => Interrupted(old)).ToArray();
        var fresh = Interrupted(DateTime.UtcNow);                       // maybe a save that just started
        var locked = Interrupted(old);                                   // a slow save still writing
        var otherTarget = Path.Combine(directory, $".other.ckpt.{Guid.NewGuid():N}.tmp");
        var notOurs = Path.Combine(directory, ".model.ckpt.backup.tmp");
        File.WriteAllText(otherTarget, "x");
        File.WriteAllText(notOurs, "x");
        File.SetLastWriteTimeUtc(otherTarget, old);
        File.SetLastWriteTimeUtc(notOurs, old);

        using (new FileStream(locked, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
            opt.Save(Target);

        Assert.All(stale, p => Assert.False(File.Exists(p)));
        Assert.True(File.Exists(fresh));
        Assert.True(File.Exists(locked));
        Assert.True(File.Exists(otherTarget));
        Assert.True(File.Exists(notOurs));

        // Load cleans up too; the save that held its file is gone by now, so its temporary is stale.
        var another = Interrupted(old);
        opt.Load(Target);
        Assert.False(File.Exists(another));
        Assert.False(File.Exists(locked));
        Assert.Equal(new[] { Path.GetFileName(fresh), ".model.ckpt.backup.tmp", Path.GetFileName(otherTarget), "model.ckpt" }.Order(StringComparer.Ordinal), Names(directory));
    }

    private sealed class Failing : IOptimizerCompanion
    {
        public string Name => "failing";
        public void OnStepEnd(StepOutcome outcome) { }
        public void Save(BinaryWriter writer) => throw new IOException("disk full (simulated)");
        public Action Stage(BinaryReader reader) => () => { };
    }

    [Fact]
    public void A_save_that_fails_midway_leaves_the_previous_checkpoint_and_no_temporary_file()
    {
        using var layer = nn.Linear(3, 2);
        using var opt = new MasterWeightOptimizer(layer, ps => optim.SGD(ps, 0.1));
        opt.Save(Target);
        var previous = File.ReadAllBytes(Target);
        opt.Step(layer.call(ones(1, 3)).sum());
        opt.AddCompanion(new Failing());

        Assert.Throws<IOException>(() => opt.Save(Target));

        Assert.Equal(new[] { "model.ckpt" }, Names(directory));
        Assert.Equal(previous, File.ReadAllBytes(Target));
    }

    [Fact]
    public void Directory_sync_succeeds_on_a_directory_and_names_one_it_cannot_open()
    {
        CheckpointFiles.SyncDirectory(directory);
        if (OperatingSystem.IsWindows()) return; // no directory fsync there: nothing to fail
        var missing = Path.Combine(directory, "missing");
        var error = Assert.Throws<IOException>(() => CheckpointFiles.SyncDirectory(missing));
        Assert.Contains(missing, error.Message);
        Assert.Contains("No such file or directory", error.Message);
    }
}
