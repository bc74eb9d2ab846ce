using System.IO;
using System.Linq;
using static TorchSharp.torch;

namespace PrecisionPolicy.Optimization;

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

    /// <summary>
    /// How the checkpoint fits <paramref name="current"/>: the first difference that refuses the load, in
    /// words (null when it loads), and the working dtypes that changed (empty when none did). A working
    /// dtype may change (a BF16 run resumed in FP16 on hardware without BF16, say): the masters and the
    /// optimizer state are FP32 whatever the working dtype, so they load as saved, as long as every
    /// parameter keeps its place in the flat master buffer that the optimizer's state is laid out over.
    /// </summary>
    public (string? Mismatch, string[] DtypeChanges) Compare(CheckpointIdentity current)
    {
        var saved = Parameters.Select(p => p.ToString()).ToArray();
        var now = current.Parameters.Select(p => p.ToString()).ToArray();
        var sameTensors = Parameters.Length == current.Parameters.Length &&
                          Parameters.Zip(current.Parameters).All(p => p.First.Name == p.Second.Name && p.First.Shape.SequenceEqual(p.Second.Shape));
        if (!sameTensors)
            return (saved.Zip(now).Select(p => p.First == p.Second ? null : $"saved {p.First}, now {p.Second}").FirstOrDefault(d => d is not null)
                    ?? $"saved {saved.Length} parameters, now {now.Length}", []);
        if (OptimizerType != current.OptimizerType || Layout != current.Layout)
            return ($"saved a {OptimizerType} optimizer with the {Layout} layout, now {current.OptimizerType} with {current.Layout}", []);
        if (ParameterGroups != current.ParameterGroups || OptimizerStates != current.OptimizerStates)
            return ($"saved {ParameterGroups} parameter group(s) and {OptimizerStates} optimizer state(s), now {current.ParameterGroups} and {current.OptimizerStates}", []);
        if (MasterElements != current.MasterElements)
            return ($"saved {MasterElements} master elements, now {current.MasterElements}", []);

        var changes = Parameters.Zip(current.Parameters)
            .Where(p => p.First.Dtype != p.Second.Dtype)
            .Select(p => $"'{p.First.Name}' {(ScalarType)p.First.Dtype} -> {(ScalarType)p.Second.Dtype}")
            .ToArray();
        if (changes.Length == 0) return (null, []);
        var savedOrder = FlatBuffers.Order(Parameters.Select(p => (ScalarType)p.Dtype).ToArray());
        var currentOrder = FlatBuffers.Order(current.Parameters.Select(p => (ScalarType)p.Dtype).ToArray());
        if (savedOrder.SequenceEqual(currentOrder)) return (null, changes);
        return ($"the working dtypes changed ({string.Join(", ", changes)}) in a way that moves parameters within the flat master buffer: " +
                "masters are grouped by working dtype (FP32 first), and the optimizer's state is laid out over that buffer, so it would " +
                "land on other parameters. A dtype change loads when every parameter keeps its place, e.g. when all BF16 parameters " +
                "become FP16 together", []);
    }
}
