using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using static TorchSharp.torch;

namespace PrecisionPolicy.Optimization;

/// <summary>
/// Checkpoints under ZeRO. <see cref="Save(string)"/> and <see cref="Load(string)"/> are collectives then: every
/// rank calls them with the same path. Each rank writes its shard (its masters, its part of the optimizer state,
/// the scaler and companions) atomically in the format of an unsharded checkpoint, to
/// <c>PATH.zero-ID.rankR-of-N</c>; when every shard is on disk, rank 0 writes the manifest at <c>PATH</c>
/// (atomically, the commit point): the stage, the world size and each shard's file name and SHA-256 checksum.
/// A save that fails on any rank fails on all, leaving the previous manifest and its shards as they were.
/// A checkpoint in one stream or snapshot (<see cref="Save(Stream)"/>, <see cref="Load(Stream)"/>,
/// <see cref="state_dict"/>, <see cref="load_state_dict"/>) is refused under ZeRO.
/// </summary>
/// <remarks>
/// <para>Manifest (UTF-8 text, one item per line):</para>
/// <code>
/// PPZEROMF
/// format 1
/// stage S
/// world-size N
/// shard R FILE SHA256HEX      -- one line per rank, in rank order; FILE beside the manifest
/// </code>
/// </remarks>
public sealed partial class MasterWeightOptimizer
{
    private const int ZeroManifestFormat = 1;
    private static ReadOnlySpan<byte> ZeroManifestMagic => "PPZEROMF"u8;

    private void SaveSharded(string manifest)
    {
        var communicator = zero!.Communicator;
        var (rank, ranks) = (communicator.Rank, communicator.WorldSize);
        RequireOnePath(manifest, "Save");
        // One id per save, rank 0's, so that the shards of two saves never mix.
        var id = Convert.ToHexString(communicator.AllGatherBytes(rank == 0 ? Guid.NewGuid().ToByteArray() : [])[0]).ToLowerInvariant();
        var shard = ShardPath(manifest, id, rank, ranks);

        byte[] status;
        try
        {
            CheckpointFiles.RemoveStaleTemporaries(shard);
            CheckpointFiles.WriteAtomically(shard, WriteCheckpoint);
            status = [0, .. TrailingChecksum(shard)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            status = [1, .. Encoding.UTF8.GetBytes(e.Message)];
        }
        var all = communicator.AllGatherBytes(status);
        ThrowIfAnyRankFailed(all, shard, manifest, "write its shard");

        if (rank == 0)
        {
            var text = new StringBuilder()
                .Append(Encoding.ASCII.GetString(ZeroManifestMagic)).Append('\n')
                .Append(CultureInfo.InvariantCulture, $"format {ZeroManifestFormat}\nstage {(int)zero.Stage}\nworld-size {ranks}\n");
            for (var r = 0; r < ranks; r++)
                text.Append(CultureInfo.InvariantCulture, $"shard {r} {Path.GetFileName(ShardPath(manifest, id, r, ranks))} {Convert.ToHexString(all[r].AsSpan(1)).ToLowerInvariant()}\n");
            try
            {
                CheckpointFiles.RemoveStaleTemporaries(manifest);
                CheckpointFiles.WriteAtomically(manifest, s => s.Write(Encoding.UTF8.GetBytes(text.ToString())));
                status = [0];
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                status = [1, .. Encoding.UTF8.GetBytes(e.Message)];
            }
        }
        else
        {
            status = [0];
        }
        ThrowIfAnyRankFailed(communicator.AllGatherBytes(status), shard, manifest, "write the manifest");

        // Committed: this rank's shards of earlier saves of this path are no longer named by the manifest.
        var directory = Path.GetDirectoryName(manifest)!;
        foreach (var old in Directory.EnumerateFiles(directory, $"{Path.GetFileName(manifest)}.zero-*.rank{rank}-of-*"))
            if (!string.Equals(old, shard, StringComparison.Ordinal))
                try { File.Delete(old); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static void ThrowIfAnyRankFailed(byte[][] statuses, string shard, string manifest, string what)
    {
        var failed = Enumerable.Range(0, statuses.Length).FirstOrDefault(r => statuses[r][0] != 0, -1);
        if (failed < 0) return;
        try { File.Delete(shard); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        throw new IOException(
            $"Saving the ZeRO checkpoint '{manifest}' failed: rank {failed} could not {what} ({Encoding.UTF8.GetString(statuses[failed].AsSpan(1))}). " +
            "The manifest was not replaced: the previous checkpoint at this path, if any, is unchanged.");
    }

    private void LoadSharded(string manifest)
    {
        RequireOnePath(manifest, "Load");
        using var scope = NewDisposeScope();
        FileStream? stream = null;
        try
        {
            var staged = OnEveryRank(() =>
            {
                var (file, checksum) = ReadManifest(manifest);
                CheckpointFiles.RemoveStaleTemporaries(file);
                stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, TensorBufferBytes);
                if (!TrailingChecksum(stream).AsSpan().SequenceEqual(checksum))
                    throw new InvalidDataException(
                        $"Shard '{file}' is not the one the manifest '{manifest}' names (its checksum differs): it was written by another save. Nothing was loaded.");
                stream.Position = 0;
                return StageCheckpoint(stream, $"Shard '{file}' of checkpoint '{manifest}'");
            }, $"Loading checkpoint '{manifest}'");
            ApplyStaged(stream!, staged);
        }
        finally
        {
            stream?.Dispose();
        }
    }

    // This rank's shard file and checksum, after checking that the manifest was written by the same stage
    // layout and world size (stages 1 and 2 shard the masters and the optimizer state alike).
    private (string File, byte[] Checksum) ReadManifest(string manifest)
    {
        var (rank, ranks, stage) = (zero!.Communicator.Rank, zero.Communicator.WorldSize, (int)zero.Stage);
        var bytes = File.ReadAllBytes(manifest);
        string Now() => $"this job runs ZeRO stage {stage} on {ranks} rank(s)";
        if (!bytes.AsSpan().StartsWith(ZeroManifestMagic))
            throw new InvalidDataException(bytes.AsSpan().StartsWith(CheckpointMagic)
                ? $"Checkpoint '{manifest}' was saved without ZeRO (one file holding every master and all optimizer state), and {Now()}: " +
                  "resharding is not implemented. Load it with DataParallelOptions.Stage = ZeroStage.None. Nothing was loaded."
                : $"'{manifest}' is not the manifest of a ZeRO checkpoint (it does not start with '{Encoding.ASCII.GetString(ZeroManifestMagic)}'). Nothing was loaded.");
        var lines = Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string Field(string key) => lines.FirstOrDefault(l => l.StartsWith(key + " ", StringComparison.Ordinal))?[(key.Length + 1)..]
            ?? throw new InvalidDataException($"The ZeRO manifest '{manifest}' has no '{key}' line. Nothing was loaded.");
        if (Field("format") != ZeroManifestFormat.ToString(CultureInfo.InvariantCulture))
            throw new InvalidDataException($"The ZeRO manifest '{manifest}' has format {Field("format")}; this build reads format {ZeroManifestFormat}. Nothing was loaded.");
        var (savedStage, savedRanks) = (Field("stage"), Field("world-size"));
        if (savedRanks != ranks.ToString(CultureInfo.InvariantCulture) || savedStage is not ("1" or "2"))
            throw new InvalidDataException(
                $"Checkpoint '{manifest}' was saved by ZeRO stage {savedStage} on {savedRanks} rank(s), and {Now()}: each rank's file holds its " +
                $"1/{savedRanks} of the masters and optimizer state, and resharding to another world size is not implemented. Resume on " +
                $"{savedRanks} rank(s) (stage 1 or 2 alike). Nothing was loaded.");
        var shard = lines.Select(l => l.Split(' ')).FirstOrDefault(f => f.Length == 4 && f[0] == "shard" && f[1] == rank.ToString(CultureInfo.InvariantCulture))
            ?? throw new InvalidDataException($"The ZeRO manifest '{manifest}' names no shard for rank {rank}. Nothing was loaded.");
        if (shard[2].Contains('/') || shard[2].Contains('\\'))
            throw new InvalidDataException($"The ZeRO manifest '{manifest}' names shard file '{shard[2]}' outside its folder. Nothing was loaded.");
        return (Path.Combine(Path.GetDirectoryName(manifest)!, shard[2]), Convert.FromHexString(shard[3]));
    }

    // Rank 0 writes the manifest at its path and every rank reads it at its own: the paths must be one.
    private void RequireOnePath(string manifest, string operation)
    {
        var paths = zero!.Communicator.AllGatherBytes(Encoding.UTF8.GetBytes(manifest)).Select(b => Encoding.UTF8.GetString(b)).ToArray();
        var other = Array.FindIndex(paths, p => p != paths[0]);
        if (other > 0)
            throw new ArgumentException(
                $"Under ZeRO every rank must call {operation} with the same path (on a file system they share): rank 0 passed '{paths[0]}', " +
                $"rank {other} '{paths[other]}'. Nothing was {(operation == "Save" ? "written" : "loaded")}.", "path");
    }

    /// <summary>
    /// Refuses a checkpoint in one stream or one in-memory snapshot under ZeRO, before a byte is written or read: a
    /// rank holds the FP32 masters and optimizer state of its shard only, so what it would write looks whole and
    /// holds 1/N of the state, and what it would read could be another rank's shard of the same size. Refused at
    /// every world size (one included), so a script tried without <c>mpiexec</c> fails as it would at scale.
    /// Every rank refuses alike, with no collective: nothing waits.
    /// </summary>
    private void ThrowIfShardedSnapshot(string operation, bool loads)
    {
        if (zero is null) return;
        var (rank, ranks) = (zero.Communicator.Rank, zero.Communicator.WorldSize);
        var held = ranks == 1 ? "its shard in ZeRO's layout (a world of one is refused as larger ones are)" : $"only its 1/{ranks} shard";
        var consequence = loads
            ? "a stream or snapshot holds either a whole checkpoint, which a shard cannot take, or one rank's part, which cannot be told from another rank's"
            : $"the {(operation.StartsWith("Save", StringComparison.Ordinal) ? "stream" : "snapshot")} would look like a whole checkpoint and hold one rank's part";
        throw new InvalidOperationException(
            $"{operation} is refused under ZeRO stage {(int)zero.Stage}: this rank (rank {rank} of {ranks}) holds {held} of the FP32 masters and " +
            $"optimizer state, so {consequence}. Call Save(path) and Load(path) on every rank with the same path: each rank writes its shard and " +
            $"rank 0 a manifest; GatherMasters() gives every master to every rank. Nothing was {(loads ? "loaded" : "written")}.");
    }

    private static string ShardPath(string manifest, string id, int rank, int ranks) =>
        string.Create(CultureInfo.InvariantCulture, $"{manifest}.zero-{id}.rank{rank}-of-{ranks}");

    // A checkpoint ends with the SHA-256 of every byte before it: the shard's checksum, without reading it again.
    private static byte[] TrailingChecksum(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return TrailingChecksum(stream);
    }

    private static byte[] TrailingChecksum(Stream stream)
    {
        if (stream.Length < 32) throw new InvalidDataException($"The shard has {stream.Length} bytes: too short to be a checkpoint.");
        stream.Position = stream.Length - 32;
        var checksum = new byte[32];
        stream.ReadExactly(checksum);
        return checksum;
    }
}
