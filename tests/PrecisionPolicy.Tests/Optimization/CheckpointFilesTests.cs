using System.IO;
using System.Linq;
using System;
using PrecisionPolicy.Optimization;
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

    /// <summary>A temporary file as a save killed mid-write leaves it: the right name, some bytes, unlocked.</summary>
    private string Interrupted(DateTime lastWrite, int bytes = 1000)
    {
        var path = CheckpointFiles.TemporaryFor(Target);
        File.WriteAllBytes(path, new byte[bytes]);
        File.SetLastWriteTimeUtc(path, lastWrite);
        return path;
    }

    private static string[] Names(string dir) => Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    [Fact]
    public void Save_and_load_remove_unheld_temporaries_at_once_and_keep_held_empty_or_foreign_files()
    {
        using var layer = nn.Linear(3, 2);
        using var opt = new MasterWeightOptimizer(layer, ps => optim.SGD(ps, 0.1));
        var old = DateTime.UtcNow - TimeSpan.FromHours(1);
        var dead = new[] { Interrupted(old), Interrupted(DateTime.UtcNow), Interrupted(DateTime.UtcNow) }; // no one holds them
        var justCreated = Interrupted(DateTime.UtcNow, bytes: 0);        // a save between creating and locking its file
        var emptyAndOld = Interrupted(old, bytes: 0);                    // a save killed before its first byte
        var held = Interrupted(DateTime.UtcNow);                         // a save still writing (its lock held)
        var otherTarget = Path.Combine(directory, $".other.ckpt.{Guid.NewGuid():N}.tmp");
        var notOurs = Path.Combine(directory, ".model.ckpt.backup.tmp");
        File.WriteAllText(otherTarget, "x");
        File.WriteAllText(notOurs, "x");

        using (var writer = new FileStream(held, FileMode.Open, FileAccess.Write, FileShare.Delete))
        {
            HoldLikeASave(writer);
            opt.Save(Target);
        }

        Assert.All(dead, p => Assert.False(File.Exists(p)));
        Assert.False(File.Exists(emptyAndOld));
        Assert.True(File.Exists(justCreated));
        Assert.True(File.Exists(held));
        Assert.True(File.Exists(otherTarget));
        Assert.True(File.Exists(notOurs));

        // Load cleans up too: the save that held its file has let go, so it is gone at once.
        var another = Interrupted(DateTime.UtcNow);
        opt.Load(Target);
        Assert.False(File.Exists(another));
        Assert.False(File.Exists(held));
        Assert.Equal(new[] { Path.GetFileName(justCreated), ".model.ckpt.backup.tmp", Path.GetFileName(otherTarget), "model.ckpt" }.Order(StringComparer.Ordinal), Names(directory));
    }

    // What CheckpointFiles.WriteAtomically holds: the handle's share mode on Windows, a shared flock(2) elsewhere.
    private static void HoldLikeASave(FileStream stream)
    {
        if (OperatingSystem.IsWindows()) return;
        Assert.Equal(0, Flock(stream.SafeFileHandle, 1 | 4 /* LOCK_SH | LOCK_NB */));
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static extern int Flock(Microsoft.Win32.SafeHandles.SafeFileHandle fd, int operation);

    /// <summary>
    /// A second optimizer saves to the same path while the first one's save is stopped half-way (its
    /// companion blocks): the live save's temporary file survives the cleanup, and that save completes.
    /// </summary>
    [Fact]
    public void A_save_in_progress_keeps_its_temporary_file_through_another_save_of_the_same_path()
    {
        using var layer = nn.Linear(3, 2);
        using var first = new MasterWeightOptimizer(layer, ps => optim.SGD(ps, 0.1));
        using var otherLayer = nn.Linear(3, 2);
        using var second = new MasterWeightOptimizer(otherLayer, ps => optim.SGD(ps, 0.1));
        using var blocking = new Blocking();
        first.AddCompanion(blocking);

        Exception? failure = null;
        var save = new System.Threading.Thread(() =>
        {
            try { first.Save(Target); }
            catch (Exception e) { failure = e; }
        });
        save.Start();
        try
        {
            Assert.True(blocking.Entered.Wait(TimeSpan.FromMinutes(2)), "the first save never reached its companion");
            // The first save has its file open (and locked) and nothing flushed into it yet. Aged, the empty
            // file no longer passes for one a save has just created: only its lock keeps it.
            var temp = Assert.Single(Directory.GetFiles(directory, ".model.ckpt.*.tmp"));
            File.SetLastWriteTimeUtc(temp, DateTime.UtcNow - TimeSpan.FromHours(1));
            second.Save(Target);
            Assert.True(File.Exists(temp), "the cleanup removed a temporary file a live save holds");
        }
        finally
        {
            blocking.Release.Set();
        }
        Assert.True(save.Join(TimeSpan.FromMinutes(2)), "the first save did not finish");
        Assert.Null(failure);
        Assert.Equal(new[] { "model.ckpt" }, Names(directory));
    }

    /// <summary>
    /// A process that holds a temporary file's lock, as a save does, is killed with SIGKILL: while it
    /// lives, saves leave its file alone; the first save after its death removes the file, without waiting.
    /// </summary>
    [Fact]
    public void The_temporary_file_of_a_killed_process_goes_at_the_next_save_and_not_before()
    {
        using var layer = nn.Linear(3, 2);
        using var opt = new MasterWeightOptimizer(layer, ps => optim.SGD(ps, 0.1));
        var temp = CheckpointFiles.TemporaryFor(Target);
        using var child = StartHolder(temp);
        try
        {
            Assert.Equal("locked", child.StandardOutput.ReadLine());
            Assert.True(new FileInfo(temp).Length > 0);
            opt.Save(Target);
            Assert.True(File.Exists(temp), "a save removed the temporary file of a live process");
        }
        finally
        {
            child.Kill(); // SIGKILL: no cleanup runs in the child
            child.WaitForExit();
        }
        Assert.True(File.Exists(temp));

        opt.Save(Target);

        Assert.False(File.Exists(temp));
        Assert.Equal(new[] { "model.ckpt" }, Names(directory));
    }

    // A child that writes bytes into the file and takes the shared flock a save takes (util-linux flock(1)),
    // then waits to be killed. Windows has no flock; the share-mode path there is what the first test holds.
    private static System.Diagnostics.Process StartHolder(string path)
    {
        var start = new System.Diagnostics.ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec 9<>\"$1\" && flock -s -n 9 && printf 'part of a checkpoint' >&9 && echo locked && exec sleep 600");
        start.ArgumentList.Add("holder");
        start.ArgumentList.Add(path);
        return System.Diagnostics.Process.Start(start)!;
    }

    /// <summary>A companion whose Save stops until released: a save caught half-way, its temporary file open.</summary>
    private sealed class Blocking : IOptimizerCompanion, IDisposable
    {
        public System.Threading.ManualResetEventSlim Entered { get; } = new();
        public System.Threading.ManualResetEventSlim Release { get; } = new();
        public string Name => "blocking";
        public void OnStepEnd(StepOutcome outcome) { }

        // Called while the checkpoint's temporary file is open, before its first byte.
        public void Save(BinaryWriter writer)
        {
            writer.Write(1);
            Entered.Set();
            Release.Wait(TimeSpan.FromMinutes(2));
        }

        public Action Stage(BinaryReader reader) => () => reader.ReadInt32();

        public void Dispose()
        {
            Entered.Dispose();
            Release.Dispose();
        }
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
