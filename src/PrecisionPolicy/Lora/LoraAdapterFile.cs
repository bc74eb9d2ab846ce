using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Lora;

/// <summary>
/// Adapters-only checkpoints, what LoRA users share: the lora_A and lora_B weights of every adapted layer, and
/// per layer a SHA-256 of the frozen base as stored (NF4 codes and constants, or the 16-bit weight), so adapters
/// are never loaded onto a base they were not trained on. The base itself is saved with the model's state dict
/// (its NF4 buffers come back bit for bit).
/// </summary>
public static class LoraAdapterFile
{
    private const string Magic = "PrecisionPolicy.LoraAdapters/1";

    /// <summary>Writes the adapters of <paramref name="model"/> to <paramref name="path"/>.</summary>
    public static void Save(nn.Module model, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = File.Create(path);
        Save(model, file);
    }

    /// <summary>Writes the adapters of <paramref name="model"/> to <paramref name="stream"/>.</summary>
    public static void Save(nn.Module model, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var layers = Layers(model);
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(layers.Count);
        foreach (var layer in layers)
        {
            writer.Write(layer.Name);
            writer.Write(BaseFingerprint(layer));
            writer.Write(layer.Options.Alpha);
            WriteTensor(writer, layer.Down.weight!);
            WriteTensor(writer, layer.Up.weight!);
        }
    }

    /// <summary>Reads adapters from <paramref name="path"/> into <paramref name="model"/>'s adapters.</summary>
    public static void Load(nn.Module model, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = File.OpenRead(path);
        Load(model, file);
    }

    /// <summary>
    /// Reads adapters into <paramref name="model"/>'s adapters: every layer, name, shape, dtype and base must match,
    /// or nothing changes and the error says what differs.
    /// </summary>
    public static void Load(nn.Module model, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var layers = Layers(model).ToDictionary(l => l.Name, StringComparer.Ordinal);
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        string magic;
        try
        {
            magic = reader.ReadString();
        }
        catch (EndOfStreamException)
        {
            magic = "";
        }
        if (magic != Magic) throw new InvalidDataException("Not a LoRA adapter file written by LoraAdapterFile.Save.");
        var count = reader.ReadInt32();
        if (count != layers.Count)
            throw new InvalidOperationException($"The file holds adapters for {count} layers; the model has {layers.Count} adapted layers.");
        var pending = new List<(Tensor Target, float[] Values)>();
        for (var i = 0; i < count; i++)
        {
            var name = reader.ReadString();
            if (!layers.TryGetValue(name, out var layer))
                throw new InvalidOperationException($"The file holds adapters for '{name}', which the model does not adapt (it adapts {string.Join(", ", layers.Keys)}).");
            var fingerprint = reader.ReadString();
            if (fingerprint != BaseFingerprint(layer))
                throw new InvalidOperationException(
                    $"The adapters for '{name}' were trained on another base: the frozen weights of '{name}' (as stored: " +
                    $"{(layer.Nf4Base is null ? layer.Target.weight!.dtype.ToString() : "NF4")}) differ from the ones they were saved with. Load them onto the base model they were trained on.");
            var alpha = reader.ReadDouble();
            if (alpha != layer.Options.Alpha)
                throw new InvalidOperationException($"The adapters for '{name}' were trained with alpha {alpha}; the model's have alpha {layer.Options.Alpha}.");
            pending.Add((layer.Down.weight!, ReadTensor(reader, layer.Down.weight!, name + ".lora_A")));
            pending.Add((layer.Up.weight!, ReadTensor(reader, layer.Up.weight!, name + ".lora_B")));
        }
        // Everything checked: now copy, so a bad file changes nothing.
        using var noGrad = no_grad();
        foreach (var (target, values) in pending)
            target.copy_(tensor(values, dtype: ScalarType.Float32).reshape(target.shape).to(target.dtype));
    }

    private static IReadOnlyList<LoraLayer> Layers(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var layers = model.LoraLayers();
        if (layers.Count == 0) throw new InvalidOperationException($"{model.GetType().Name} has no LoRA adapters: call AttachLora first.");
        return layers;
    }

    // SHA-256 of the base as stored: the NF4 codes and constants, or the dense weight's bytes.
    private static string BaseFingerprint(LoraLayer layer)
    {
        var tensors = layer.Nf4Base is { } nf4 ? nf4.buffers().ToList() : [layer.Target.weight!];
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var t in tensors)
        {
            using var cpu = t.detach().cpu().contiguous();
            sha.AppendData(cpu.bytes);
        }
        return Convert.ToHexString(sha.GetHashAndReset());
    }

    // Values as FP32 (exact for BF16/FP16 adapters), with the shape and dtype to check on load.
    private static void WriteTensor(BinaryWriter writer, Tensor t)
    {
        writer.Write((int)t.dtype);
        writer.Write((int)t.dim());
        foreach (var s in t.shape) writer.Write(s);
        using var values = t.detach().to(ScalarType.Float32).cpu().contiguous();
        foreach (var v in values.data<float>()) writer.Write(v);
    }

    private static float[] ReadTensor(BinaryReader reader, Tensor target, string name)
    {
        var dtype = (ScalarType)reader.ReadInt32();
        var shape = new long[reader.ReadInt32()];
        for (var i = 0; i < shape.Length; i++) shape[i] = reader.ReadInt64();
        if (dtype != target.dtype || !shape.SequenceEqual(target.shape))
            throw new InvalidOperationException($"'{name}' is {dtype} [{string.Join(", ", shape)}] in the file and {target.dtype} [{string.Join(", ", target.shape)}] in the model.");
        var values = new float[target.numel()];
        for (var i = 0; i < values.Length; i++) values[i] = reader.ReadSingle();
        return values;
    }
}
