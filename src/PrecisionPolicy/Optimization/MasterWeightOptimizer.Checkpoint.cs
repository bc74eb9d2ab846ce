using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy;

public sealed partial class MasterWeightOptimizer
{
    private const string CheckpointMagic = "PrecisionPolicy.MasterWeights";
    private const int CheckpointVersion = 1;

    /// <summary>
    /// Writes masters, inner optimizer state, loss-scaler state and companions to
    /// <paramref name="path"/> atomically: a temporary file beside it, then a rename, so a crash
    /// mid-write leaves the previous checkpoint intact. Refused between micro-batches (their
    /// gradients are not part of a checkpoint).
    /// </summary>
    public void Save(string path)
    {
        ThrowIfDisposed();
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (microBatches != 0)
            throw new InvalidOperationException($"{microBatches} micro-batch(es) are accumulated but not stepped: call Step() before Save(), a checkpoint holds no gradients.");

        var full = Path.GetFullPath(path);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            using (var writer = new BinaryWriter(stream))
            {
                WriteCheckpoint(writer);
                writer.Flush();
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>
    /// Restores a checkpoint written by <see cref="Save"/> for the same parameters (names, shapes
    /// and dtypes are checked first; nothing changes when they differ) and copies the masters into
    /// the working parameters.
    /// </summary>
    public void Load(string path)
    {
        ThrowIfDisposed();
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        ReadHeader(reader, path);

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var loadedMasters = TensorExtensionMethods.Load(reader).to(Device);
        if (loadedMasters.numel() != masters.numel())
            throw new InvalidDataException($"Checkpoint '{path}' holds {loadedMasters.numel()} master elements, this optimizer {masters.numel()}.");
        var scalerState = ReadScalerState(reader);
        masters.copy_(loadedMasters);
        Inner.load_state_dict(reader);
        Scaler.Restore(scalerState);
        ReadCompanions(reader, path);
        foreach (var g in groups)
            if (g.IsLowPrecision) g.Working.copy_(g.Master);
        masterGrads.zero_();
        microBatches = 0;
    }

    private void WriteCheckpoint(BinaryWriter writer)
    {
        writer.Write(CheckpointMagic);
        writer.Write(CheckpointVersion);
        writer.Write(slots.Length);
        foreach (var s in slots)
        {
            writer.Write(s.Name);
            writer.Write((int)s.Working.dtype);
            writer.Write(string.Join(",", s.Working.shape));
        }
        masters.cpu().Save(writer);
        var st = Scaler.State;
        writer.Write(st.Scale);
        writer.Write(st.GrowthTracker);
        writer.Write(st.HysteresisLeft);
        writer.Write(st.ConsecutiveSkips);
        writer.Write(st.TotalSkips);
        writer.Write(st.TotalSteps);
        Inner.save_state_dict(writer);
        writer.Write(companions.Count);
        foreach (var (key, c) in companions)
        {
            using var buffer = new MemoryStream();
            using (var sectionWriter = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) c.Save(sectionWriter);
            writer.Write(key);
            writer.Write(buffer.Length);
            writer.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
    }

    private void ReadHeader(BinaryReader reader, string path)
    {
        if (reader.ReadString() != CheckpointMagic || reader.ReadInt32() != CheckpointVersion)
            throw new InvalidDataException($"'{path}' is not a PrecisionPolicy master-weight checkpoint (version {CheckpointVersion}).");
        var count = reader.ReadInt32();
        var saved = Enumerable.Range(0, count)
            .Select(_ => $"{reader.ReadString()}:{(ScalarType)reader.ReadInt32()}[{reader.ReadString()}]").ToArray();
        var current = slots.Select(s => $"{s.Name}:{s.Working.dtype}[{string.Join(",", s.Working.shape)}]").ToArray();
        if (!saved.SequenceEqual(current))
        {
            var first = saved.Zip(current).Select(p => p.First == p.Second ? null : $"saved {p.First}, now {p.Second}").FirstOrDefault(d => d is not null)
                        ?? $"saved {saved.Length} parameters, now {current.Length}";
            throw new InvalidDataException($"Checkpoint '{path}' was written for other parameters ({first}); nothing was loaded.");
        }
    }

    private static LossScalerState ReadScalerState(BinaryReader reader) =>
        new(reader.ReadDouble(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt64(), reader.ReadInt64());

    private void ReadCompanions(BinaryReader reader, string path)
    {
        var count = reader.ReadInt32();
        var sections = new Dictionary<string, byte[]>();
        for (var i = 0; i < count; i++)
        {
            var name = reader.ReadString();
            sections[name] = reader.ReadBytes(checked((int)reader.ReadInt64()));
        }
        foreach (var (key, c) in companions)
        {
            if (!sections.TryGetValue(key, out var bytes))
                throw new InvalidDataException($"Checkpoint '{path}' has no state for companion '{key}'.");
            using var sectionReader = new BinaryReader(new MemoryStream(bytes));
            c.Load(sectionReader);
        }
    }
}
