using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using PrecisionPolicy.Scaling;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Optimization;

/// <remarks>
/// <para>Checkpoint format 2 (little-endian, strings as .NET <see cref="BinaryWriter"/> writes them):</para>
/// <code>
/// magic "PPMWCKPT" (8 bytes) | int32 format version (2) | int32 section count
/// per section: string name, int64 length          -- the table of contents
/// section payloads, in table order, back to back
/// SHA-256 of every byte before it (32 bytes)
/// </code>
/// Sections: <c>identity</c> (each trainable parameter's name, dtype and shape, the layout, the
/// inner optimizer's type and its parameter-group and state counts, the master element count),
/// <c>masters</c> (the flat FP32 master buffer, raw), <c>scaler</c> (mode and
/// <see cref="LossScalerState"/>), <c>optimizer</c> (TorchSharp's <c>save_state_dict</c> of the
/// inner optimizer) and one <c>companion:NAME</c> per <see cref="IOptimizerCompanion"/>.
/// </remarks>
public sealed partial class MasterWeightOptimizer
{
    private const int CheckpointVersion = 2;
    private const int MaxCheckpointSections = 4096;
    private const int MaxSectionNameLength = 1024;
    private const long MaxSectionBytes = 1L << 56; // keeps the sum of lengths from overflowing
    private const int TensorBufferBytes = 1 << 20;
    private const string IdentitySection = "identity", MastersSection = "masters", ScalerSection = "scaler", OptimizerSection = "optimizer";
    private const string CompanionSectionPrefix = "companion:";
    private static ReadOnlySpan<byte> CheckpointMagic => "PPMWCKPT"u8;
    // Format 1 began with the string "PrecisionPolicy.MasterWeights": its length byte (29), then the text.
    private static ReadOnlySpan<byte> Version1Start => "\u001DPrecisionPolicy.MasterWeights"u8;

    /// <summary>
    /// Writes masters, inner optimizer state, loss-scaler state and companions to
    /// <paramref name="path"/> atomically: a temporary file beside it (<c>.NAME.HEX.tmp</c>),
    /// flushed to disk, renamed over the target, then the directory synced; a crash mid-write
    /// leaves the previous checkpoint intact. A save holds a lock on its temporary file until the
    /// rename, and the system drops it when the process dies (a kill included): the next Save or Load
    /// of the same path, in any process, removes at once every temporary file no live save holds, and
    /// never one that a save still writes. (An empty temporary file, or any on a file system without
    /// locks, is removed once it is a minute old.) Refused between micro-batches (their gradients are
    /// not part of a checkpoint).
    /// </summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var guard = Enter(nameof(Save));
        ThrowIfMicroBatchesPending();
        var full = Path.GetFullPath(path);
        if (zero is not null)
        {
            SaveSharded(full); // MasterWeightOptimizer.ZeroCheckpoint.cs
            return;
        }
        CheckpointFiles.RemoveStaleTemporaries(full);
        CheckpointFiles.WriteAtomically(full, WriteCheckpoint);
    }

    /// <summary>Writes the checkpoint <see cref="Save(string)"/> writes into <paramref name="stream"/>, from its current position.</summary>
    /// <exception cref="InvalidOperationException">Under ZeRO (<see cref="Distributed.DataParallelOptions.Stage"/> 1 or 2), where a rank holds
    /// only its shard of the masters and optimizer state: use <see cref="Save(string)"/>. Nothing is written.</exception>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite) throw new ArgumentException("The stream is not writable.", nameof(stream));
        using var guard = Enter(nameof(Save));
        ThrowIfShardedSnapshot("Save(Stream)", loads: false); // MasterWeightOptimizer.ZeroCheckpoint.cs
        ThrowIfMicroBatchesPending();
        WriteCheckpoint(stream);
    }

    /// <summary>
    /// Restores a checkpoint written by <see cref="Save(string)"/> for the same parameters, whole or
    /// not at all: format, version, lengths and checksum, the parameters' names, dtypes and shapes,
    /// the inner optimizer's state (parsed by a second optimizer the factory builds, on the CPU), the
    /// scaler and every companion are read and checked before anything changes. Then the masters are
    /// copied into the working parameters and accumulated gradients are dropped.
    /// <para>
    /// The working dtypes may differ from the saved ones (a BF16 run resumed in FP16 on hardware without
    /// BF16, say): the FP32 masters and optimizer state load bit for bit, the working weights are made
    /// again from the masters, and the loss scaler starts fresh from this optimizer's options (a scale
    /// found for other gradients means nothing for these). Refused, with the reason: a change that moves
    /// parameters within the flat master buffer (masters are grouped by working dtype), and a master
    /// beyond the new working dtype's range (a BF16 weight above FP16's 65504).
    /// </para>
    /// </summary>
    /// <remarks>Staging needs transient CPU memory for one copy of the masters and of the inner optimizer's state.</remarks>
    /// <exception cref="InvalidDataException">The file is damaged, truncated, not a checkpoint, or of other parameters; nothing changed.</exception>
    public void Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var guard = Enter(nameof(Load));
        var full = Path.GetFullPath(path);
        if (zero is not null)
        {
            LoadSharded(full); // MasterWeightOptimizer.ZeroCheckpoint.cs
            return;
        }
        CheckpointFiles.RemoveStaleTemporaries(full);
        using var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, TensorBufferBytes);
        LoadCore(stream, $"Checkpoint '{full}'");
    }

    /// <summary>
    /// <see cref="Load(string)"/> from <paramref name="stream"/>, from its current position to its
    /// end. A stream that cannot seek is read into memory first (at most 2 GB).
    /// </summary>
    /// <exception cref="InvalidOperationException">Under ZeRO (<see cref="Distributed.DataParallelOptions.Stage"/> 1 or 2): use
    /// <see cref="Load(string)"/>. Nothing is read from the stream and nothing changes.</exception>
    public void Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead) throw new ArgumentException("The stream is not readable.", nameof(stream));
        using var guard = Enter(nameof(Load));
        ThrowIfShardedSnapshot("Load(Stream)", loads: true); // before a byte is read
        if (stream.CanSeek)
        {
            LoadCore(stream, "The checkpoint stream");
            return;
        }
        using var buffered = new MemoryStream();
        stream.CopyTo(buffered);
        buffered.Position = 0;
        LoadCore(buffered, "The checkpoint stream");
    }

    private void ThrowIfMicroBatchesPending()
    {
        if (microBatches != 0)
            throw new InvalidOperationException($"{microBatches} micro-batch(es) are accumulated but not stepped: call Step() before Save(), a checkpoint holds no gradients.");
    }

    private void WriteCheckpoint(Stream output)
    {
        var identity = SectionBytes(WriteIdentity);
        var scaler = SectionBytes(WriteScaler);
        var optimizerLength = Measure(WriteInnerState);
        var sections = new List<(string Name, long Length, Action<Stream> Write)>
        {
            (IdentitySection, identity.Length, s => s.Write(identity)),
            (MastersSection, masters.numel() * sizeof(float), WriteMasters),
            (ScalerSection, scaler.Length, s => s.Write(scaler)),
            (OptimizerSection, optimizerLength, WriteInnerState),
        };
        foreach (var (key, companion) in companions)
        {
            var bytes = SectionBytes(companion.Save);
            sections.Add((CompanionSectionPrefix + key, bytes.Length, s => s.Write(bytes)));
        }

        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var hashed = new HashingWriteStream(output, sha);
        using (var header = new BinaryWriter(hashed, Encoding.UTF8, leaveOpen: true))
        {
            header.Write(CheckpointMagic);
            header.Write(CheckpointVersion);
            header.Write(sections.Count);
            foreach (var (name, length, _) in sections)
            {
                header.Write(name);
                header.Write(length);
            }
        }
        foreach (var (name, length, write) in sections)
        {
            var before = hashed.Written;
            write(hashed);
            if (hashed.Written - before != length)
                throw new InvalidOperationException($"Checkpoint section '{name}' wrote {hashed.Written - before} bytes where {length} were announced: its writer is not deterministic.");
        }
        output.Write(sha.GetHashAndReset());
        output.Flush();
    }

    private static byte[] SectionBytes(Action<BinaryWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true)) write(writer);
        return buffer.ToArray();
    }

    private static long Measure(Action<Stream> write)
    {
        var counter = HashingWriteStream.Counter();
        write(counter);
        return counter.Written;
    }

    private void WriteInnerState(Stream stream)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        Inner.save_state_dict(writer);
    }

    private void WriteMasters(Stream stream)
    {
        using var scope = NewDisposeScope();
        var cpu = masters.device_type == DeviceType.CPU ? masters : masters.cpu();
        cpu.WriteBytesToStream(stream, TensorBufferBytes);
    }

    private void WriteIdentity(BinaryWriter writer) => CurrentIdentity().Write(writer);

    private void WriteScaler(BinaryWriter writer)
    {
        var s = Scaler.State;
        writer.Write((int)Scaler.Options.Mode);
        writer.Write(s.Scale);
        writer.Write(s.GrowthTracker);
        writer.Write(s.HysteresisLeft);
        writer.Write(s.ConsecutiveSkips);
        writer.Write(s.TotalSkips);
        writer.Write(s.TotalSteps);
        writer.Write(s.FirstNonFiniteOfRun is not null);
        if (s.FirstNonFiniteOfRun is not null) writer.Write(s.FirstNonFiniteOfRun);
    }

    private CheckpointIdentity CurrentIdentity()
    {
        var state = Inner.state_dict();
        return new CheckpointIdentity(
            slots.Select(s => new CheckpointIdentity.Tensor(s.Name, (int)s.Working.dtype, s.Working.shape)).ToArray(),
            Options.Layout.ToString(), Inner.GetType().Name, state.Options.Count, state.State.Count, masters.numel());
    }

    private void LoadCore(Stream source, string label)
    {
        using var scope = NewDisposeScope();
        var staged = OnEveryRank(() => StageCheckpoint(source, label), label); // under ZeRO: all ranks load, or none
        ApplyStaged(source, staged);
    }

    private void ApplyStaged(Stream source, StagedCheckpoint staged)
    {
        // Everything is read and checked. TorchSharp's optimizer reader parsed this very section into
        // an optimizer the factory built over parameters of these shapes, so reading it again cannot fail.
        using var _ = no_grad();
        source.Position = staged.OptimizerOffset;
        using (var reader = new BinaryReader(new SectionReadStream(source, staged.OptimizerLength, null), Encoding.UTF8, leaveOpen: true))
            Inner.load_state_dict(reader);
        masters.copy_(staged.Masters);
        WorkingFromMasters();
        Scaler.Restore(staged.Scaler);
        foreach (var apply in staged.Companions) apply();
        masterGrads.zero_();
        gradientGuard?.Forget();
        foreach (var g in groups)
            if (g.IsLowPrecision) g.WorkingGrad.zero_();
        microBatches = 0;
    }

    private sealed record StagedCheckpoint(Tensor Masters, LossScalerState Scaler, long OptimizerOffset, long OptimizerLength, IReadOnlyList<Action> Companions);

    /// <summary>Reads and checks the whole checkpoint into staging; throws <see cref="InvalidDataException"/> and changes nothing otherwise.</summary>
    private StagedCheckpoint StageCheckpoint(Stream source, string label)
    {
        var available = source.Length - source.Position;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var table = ReadTableOfContents(source, available, sha, label);

        var current = CurrentIdentity();
        string? mismatch = null;
        string[] dtypeChanges = [];
        LossScalingMode? scalerMode = null;
        var problems = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        Tensor? stagedMasters = null;
        LossScalerState? scaler = null;
        long optimizerOffset = -1, optimizerLength = 0;
        var companionActions = new List<Action>();
        Exception? firstError = null;

        foreach (var (name, length) in table)
        {
            var offset = source.Position;
            var section = new SectionReadStream(source, length, sha);
            try
            {
                if (!seen.Add(name)) throw new InvalidDataException($"section '{name}' appears twice");
                using var reader = new BinaryReader(section, Encoding.UTF8, leaveOpen: true);
                switch (name)
                {
                    case IdentitySection:
                        (mismatch, dtypeChanges) = CheckpointIdentity.Read(reader).Compare(current);
                        break;
                    case MastersSection when mismatch is null:
                        if (length != masters.numel() * sizeof(float))
                            throw new InvalidDataException($"the masters section has {length} bytes, {masters.numel() * sizeof(float)} expected");
                        stagedMasters = empty(masters.numel(), ScalarType.Float32, CPU);
                        stagedMasters.ReadBytesFromStream(section, TensorBufferBytes);
                        break;
                    case ScalerSection:
                        (scalerMode, scaler) = ReadScalerState(reader);
                        break;
                    case OptimizerSection when mismatch is null:
                        StageInnerState(reader);
                        (optimizerOffset, optimizerLength) = (offset, length);
                        break;
                    case MastersSection or OptimizerSection:
                        break; // other parameters: reported below, not parsed
                    default:
                        companionActions.Add(StageCompanion(name, reader));
                        break;
                }
                if (section.Remaining != 0) throw new InvalidDataException($"section '{name}' has {section.Remaining} bytes its reader did not use");
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                problems.Add(e is InvalidDataException ? e.Message : $"section '{name}' could not be read ({e.GetType().Name}: {e.Message})");
                firstError ??= e;
            }
            section.Drain();
        }

        Span<byte> expected = stackalloc byte[32];
        source.ReadExactly(expected);
        if (!sha.GetHashAndReset().AsSpan().SequenceEqual(expected))
            throw new InvalidDataException($"{label} is damaged: its SHA-256 checksum does not match its contents. Nothing was loaded.", firstError);
        if (mismatch is not null)
            throw new InvalidDataException($"{label} was written for other parameters or another optimizer ({mismatch}); nothing was loaded.");
        foreach (var required in new[] { IdentitySection, MastersSection, ScalerSection, OptimizerSection })
            if (!seen.Contains(required)) problems.Add($"section '{required}' is missing");
        var missingCompanions = companions.Where(c => !seen.Contains(CompanionSectionPrefix + c.Key)).Select(c => c.Key).ToArray();
        if (missingCompanions.Length > 0)
            problems.Add($"it has no state for companion(s) {string.Join(", ", missingCompanions.Select(k => $"'{k}'"))} of this optimizer");
        // Other working dtypes (MasterWeightOptimizer.DtypeChange.cs): the scaler starts fresh, whatever mode it was saved with.
        if (dtypeChanges.Length > 0 && stagedMasters is not null)
        {
            problems.AddRange(WorkingDtypeProblems(stagedMasters));
            scaler = new LossScaler(Scaler.Options).State;
        }
        else if (scalerMode is { } mode && mode != Scaler.Options.Mode)
        {
            problems.Add($"it was saved with {mode} loss scaling, this optimizer uses {Scaler.Options.Mode}");
        }
        if (problems.Count > 0)
            throw new InvalidDataException($"{label} does not fit this optimizer: {string.Join("; ", problems)}. Nothing was loaded.", firstError);
        return new StagedCheckpoint(stagedMasters!, scaler!, optimizerOffset, optimizerLength, companionActions);
    }

    private static List<(string Name, long Length)> ReadTableOfContents(Stream source, long available, IncrementalHash sha, string label)
    {
        var header = new SectionReadStream(source, available, sha);
        var magic = new byte[(int)Math.Min(available, CheckpointMagic.Length)];
        header.ReadExactly(magic);
        if (!magic.AsSpan().SequenceEqual(CheckpointMagic))
        {
            if (magic.AsSpan().SequenceEqual(ZeroManifestMagic))
                throw new InvalidDataException(
                    $"{label} is the manifest of a ZeRO-sharded checkpoint (each rank's masters and optimizer state in its own file): " +
                    "load it with an optimizer of ZeRO stage 1 or 2 on as many ranks as saved it, on every rank. Nothing was loaded.");
            var start = new byte[(int)Math.Min(available, Version1Start.Length)];
            magic.CopyTo(start, 0);
            header.ReadExactly(start.AsSpan(magic.Length));
            if (start.AsSpan().SequenceEqual(Version1Start))
                throw new InvalidDataException(
                    $"{label} has checkpoint format 1 (written by an earlier PrecisionPolicy, without lengths or a checksum); " +
                    $"this build reads format {CheckpointVersion} only. Nothing was loaded.");
            throw new InvalidDataException(
                $"{label} is not a PrecisionPolicy checkpoint: it starts with the bytes {Convert.ToHexString(magic)}, a checkpoint with " +
                $"'{Encoding.ASCII.GetString(CheckpointMagic)}' ({available} bytes in all). Nothing was loaded.");
        }

        using var reader = new BinaryReader(header, Encoding.UTF8, leaveOpen: true);
        try
        {
            var version = reader.ReadInt32();
            if (version != CheckpointVersion)
                throw new InvalidDataException($"{label} has checkpoint format {version}; this build reads format {CheckpointVersion}. Nothing was loaded.");
            var count = reader.ReadInt32();
            if (count < 1 || count > MaxCheckpointSections)
                throw new InvalidDataException($"{label} is damaged: its header lists {count} sections. Nothing was loaded.");
            var table = new List<(string, long)>(count);
            long total = 0;
            for (var i = 0; i < count; i++)
            {
                var name = reader.ReadString();
                var length = reader.ReadInt64();
                if (name.Length is 0 or > MaxSectionNameLength || length < 0 || length > MaxSectionBytes)
                    throw new InvalidDataException($"{label} is damaged: its header lists a section '{name}' of {length} bytes. Nothing was loaded.");
                total += length;
                table.Add((name, length));
            }
            var expected = header.Position + total + 32;
            if (expected != available)
                throw new InvalidDataException(expected > available
                    ? $"{label} is truncated: its header describes {expected} bytes but it has {available}. Nothing was loaded."
                    : $"{label} is damaged: its header describes {expected} bytes but it has {available}. Nothing was loaded.");
            return table;
        }
        catch (Exception e) when (e is EndOfStreamException or FormatException)
        {
            throw new InvalidDataException($"{label} is truncated or damaged: its header cannot be read ({e.Message}). Nothing was loaded.", e);
        }
    }

    // The mode is compared with this optimizer's after the identity is known: a run resumed in other working dtypes starts its scaler fresh.
    private static (LossScalingMode Mode, LossScalerState State) ReadScalerState(BinaryReader reader)
    {
        var mode = (LossScalingMode)reader.ReadInt32();
        var state = new LossScalerState(reader.ReadDouble(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt64(), reader.ReadInt64(),
            reader.ReadBoolean() ? reader.ReadString() : null);
        if (!Enum.IsDefined(mode))
            throw new InvalidDataException($"its scaler section names loss-scaling mode {(int)mode}, which this build does not know");
        try
        {
            LossScaler.ThrowIfInvalid(state);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"its scaler section is not valid ({e.Message})", e);
        }
        return (mode, state);
    }

    /// <summary>
    /// Parses the inner optimizer's section with TorchSharp's own reader into a second optimizer the
    /// factory builds over CPU parameters of the same shapes: whatever TorchSharp would refuse (another
    /// optimizer type, other parameter groups or state shapes) is refused here, before any change.
    /// </summary>
    private void StageInnerState(BinaryReader reader)
    {
        using var scope = NewDisposeScope();
        var parameters = Options.Layout == MasterLayout.PerTensor
            ? slots.Select(s => new Parameter(empty(s.Master.shape, ScalarType.Float32, CPU), requires_grad: true)).ToArray()
            : ChunkLengths().Select(length => new Parameter(empty(length, ScalarType.Float32, CPU), requires_grad: true)).ToArray();
        using var staging = factory(parameters);
        try
        {
            staging.load_state_dict(reader);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or EndOfStreamException)
        {
            throw new InvalidDataException($"its optimizer section does not fit this optimizer ({Inner.GetType().Name}): {e.Message}", e);
        }
    }

    private Action StageCompanion(string section, BinaryReader reader)
    {
        if (!section.StartsWith(CompanionSectionPrefix, StringComparison.Ordinal))
            throw new InvalidDataException($"it has a section '{section}' this build does not know");
        var key = section[CompanionSectionPrefix.Length..];
        var companion = companions.FirstOrDefault(c => c.Key == key).Companion
            ?? throw new InvalidDataException($"it has state for companion '{key}', which this optimizer does not have (companions: {string.Join(", ", companions.Select(c => $"'{c.Key}'"))})");
        return companion.Stage(reader);
    }
}
