using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace PrecisionPolicy.Fidelity;

/// <summary>
/// Writes named float32 and int64 tensors as one safetensors file (Hugging Face's format: an 8-byte
/// little-endian header length, a JSON header of dtype, shape and byte offsets, then the raw
/// little-endian data), which numpy or torch read without TorchSharp.
/// </summary>
internal static class SafetensorsWriter
{
    public static void Write(string path, IReadOnlyList<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        var header = new Dictionary<string, object> { ["__metadata__"] = metadata };
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var (name, tensor) in tensors)
        {
            var bytes = BytesOf(tensor, out var dtype);
            header[name] = new { dtype, shape = tensor.shape, data_offsets = new[] { offset, offset + bytes.Length } };
            blobs.Add(bytes);
            offset += bytes.Length;
        }
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        var padded = (json.Length + 7) / 8 * 8; // the format pads the header with spaces to 8 bytes
        using var file = File.Create(path);
        file.Write(BitConverter.GetBytes((ulong)padded));
        file.Write(json);
        file.Write(Enumerable.Repeat((byte)' ', padded - json.Length).ToArray());
        foreach (var blob in blobs) file.Write(blob);
    }

    private static byte[] BytesOf(Tensor tensor, out string dtype)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors data is little-endian.");
        using var flat = tensor.detach().cpu().contiguous();
        switch (flat.dtype)
        {
            case ScalarType.Float32:
                dtype = "F32";
                return MemoryMarshal.AsBytes(flat.data<float>().ToArray().AsSpan()).ToArray();
            case ScalarType.Int64:
                dtype = "I64";
                return MemoryMarshal.AsBytes(flat.data<long>().ToArray().AsSpan()).ToArray();
            default:
                throw new ArgumentException($"Only float32 and int64 tensors are written (got {flat.dtype}).", nameof(tensor));
        }
    }
}
