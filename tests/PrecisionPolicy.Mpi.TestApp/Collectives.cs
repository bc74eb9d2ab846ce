using System.IO;
using PrecisionPolicy.Distributed;
using static TorchSharp.torch;

namespace PrecisionPolicy.Mpi.TestApp;

/// <summary>
/// Each rank's input (random normals, seed 100 + rank, scaled so 16-bit sums round), and the results
/// of every collective in every reduce dtype, as raw bytes, with the bytes each call sent.
/// </summary>
internal static class Collectives
{
    public const int Elements = 1001; // not a multiple of 2 or 3: the parts differ in length

    public static void Run(string output)
    {
        var world = MpiCommunicator.World;
        var r = world.Rank;
        manual_seed(100 + r);
        var input = randn(Elements).mul(3.0f);
        Write(output, r, "input", input);
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16, ScalarType.Float16 })
        {
            var name = dtype.ToString();
            var before = world.BytesSent;
            var sum = input.clone();
            world.AllReduceSum(sum, dtype);
            File.WriteAllText(Path.Combine(output, $"rank{r}.allreduce.{name}.sent"), (world.BytesSent - before).ToString(System.Globalization.CultureInfo.InvariantCulture));
            Write(output, r, $"allreduce.{name}", sum);

            var mine = Partitions.Of(Elements, world.WorldSize)[r];
            var part = empty(mine.Length);
            world.ReduceScatterSum(input, part, dtype);
            Write(output, r, $"reducescatter.{name}", part);
        }
        var gathered = empty(Elements);
        var myPart = Partitions.Of(Elements, world.WorldSize)[r];
        world.AllGather(input.narrow(0, myPart.Start, myPart.Length).contiguous(), gathered);
        Write(output, r, "allgather", gathered);

        var broadcast = input.clone();
        world.Broadcast(broadcast, root: world.WorldSize - 1);
        Write(output, r, "broadcast", broadcast);
        File.WriteAllText(Path.Combine(output, $"rank{r}.any"), $"{world.Any(r == world.WorldSize - 1)} {world.Any(false)}");
    }

    public static void Write(string output, int rank, string name, Tensor t) =>
        File.WriteAllBytes(Path.Combine(output, $"rank{rank}.{name}.bin"), t.contiguous().bytes.ToArray());
}
