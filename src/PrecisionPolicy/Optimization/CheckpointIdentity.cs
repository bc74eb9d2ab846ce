using System.IO;
using System.Linq;
using static TorchSharp.torch;

namespace PrecisionPolicy;

/// <summary>What a checkpoint was written for: a load is refused unless this matches the optimizer's own.</summary>
internal sealed record CheckpointIdentity(CheckpointIdentity.Tensor[] Parameters, string Layout, string OptimizerType, int ParameterGroups, int OptimizerStates, long MasterElements)
{
    /// <summary>One trainable parameter: name, working dtype (TorchSharp's ScalarType code) and shape.</summary>
    internal sealed record Tensor(string Name, int Dtype, long[] Shape)
    {
        public override string ToString() => $"{Name}:{(ScalarType)Dtype}[{string.Join(",", Shape)}]";
    }

    private const int MaxRank = 64;

    public void Write(BinaryWriter writer)
    {
        writer.Write(Parameters.Length);
        foreach (var p in Parameters)
        {
            writer.Write(p.Name);
            writer.Write(p.Dtype);
            writer.Write(p.Shape.Length);
            foreach (var d in p.Shape) writer.Write(d);
        }
        writer.Write(Layout);
        writer.Write(OptimizerType);
        writer.Write(ParameterGroups);
        writer.Write(OptimizerStates);
        writer.Write(MasterElements);
    }

    public static CheckpointIdentity Read(BinaryReader reader)
    {
        var count = reader.ReadInt32();
        if (count < 0 || count > reader.BaseStream.Length) throw new InvalidDataException($"its identity section lists {count} parameters");
        var parameters = new Tensor[count];
        for (var i = 0; i < count; i++)
        {
            var name = reader.ReadString();
            var dtype = reader.ReadInt32();
            var rank = reader.ReadInt32();
            if (rank < 0 || rank > MaxRank) throw new InvalidDataException($"its identity section gives parameter '{name}' rank {rank}");
            parameters[i] = new Tensor(name, dtype, Enumerable.Range(0, rank).Select(_ => reader.ReadInt64()).ToArray());
        }
        return new CheckpointIdentity(parameters, reader.ReadString(), reader.ReadString(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt64());
    }

    /// <summary>The first difference from <paramref name="current"/> in words, or null when they match.</summary>
    public string? Mismatch(CheckpointIdentity current)
    {
        var saved = Parameters.Select(p => p.ToString()).ToArray();
        var now = current.Parameters.Select(p => p.ToString()).ToArray();
        if (!saved.SequenceEqual(now))
            return saved.Zip(now).Select(p => p.First == p.Second ? null : $"saved {p.First}, now {p.Second}").FirstOrDefault(d => d is not null)
                   ?? $"saved {saved.Length} parameters, now {now.Length}";
        if (OptimizerType != current.OptimizerType || Layout != current.Layout)
            return $"saved a {OptimizerType} optimizer with the {Layout} layout, now {current.OptimizerType} with {current.Layout}";
        if (ParameterGroups != current.ParameterGroups || OptimizerStates != current.OptimizerStates)
            return $"saved {ParameterGroups} parameter group(s) and {OptimizerStates} optimizer state(s), now {current.ParameterGroups} and {current.OptimizerStates}";
        return MasterElements == current.MasterElements ? null : $"saved {MasterElements} master elements, now {current.MasterElements}";
    }
}
