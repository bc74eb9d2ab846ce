using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy.Distributed;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Mpi.Tests;

/// <summary>The communicator's collectives in real MPI jobs of 2 and 3 ranks.</summary>
public sealed class MpiCollectivesTests : IDisposable
{
    private readonly MpiJob job = new(); // its folders are deleted when the test ends

    private const int Elements = 1001; // the test app's buffer length

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Collectives_give_the_sums_gathers_and_broadcast_on_every_rank(int ranks)
    {
        var folder = job.Run(ranks, "collectives");
        var inputs = Enumerable.Range(0, ranks).Select(r => MpiJob.Floats(folder, r, "input")).ToArray();
        var parts = Partitions.Of(Elements, ranks);

        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16, ScalarType.Float16 })
        {
            var results = Enumerable.Range(0, ranks).Select(r => MpiJob.Bytes(folder, r, $"allreduce.{dtype}")).ToArray();
            for (var r = 1; r < ranks; r++) Assert.Equal(results[0], results[r]); // every rank holds the same bits
            var sum = MpiJob.Floats(folder, 0, $"allreduce.{dtype}");
            if (dtype == ScalarType.Float32)
            {
                for (var i = 0; i < Elements; i++)
                {
                    var exact = inputs.Sum(x => (double)x[i]);
                    Assert.True(Math.Abs(sum[i] - exact) <= 1e-6 * Math.Max(1.0, Math.Abs(exact)), $"element {i}: {sum[i]} vs {exact}");
                }
            }
            else
            {
                // The same additions by hand, in rank order: each widened to float32 and rounded once to 16 bits
                // (torch's 16-bit add), which is the order MPICH applies a non-commutative op in.
                var expected = HandSum(inputs, dtype);
                Assert.Equal(expected, sum);
            }
            for (var r = 0; r < ranks; r++)
                Assert.Equal(sum.AsSpan((int)parts[r].Start, (int)parts[r].Length).ToArray(), MpiJob.Floats(folder, r, $"reducescatter.{dtype}"));
        }

        // Bytes handed to MPI by each rank: the whole buffer for the reduce-scatter, its part for the all-gather.
        for (var r = 0; r < ranks; r++)
        {
            var fp32 = long.Parse(MpiJob.Text(folder, r, "allreduce.Float32.sent"), System.Globalization.CultureInfo.InvariantCulture);
            var bf16 = long.Parse(MpiJob.Text(folder, r, "allreduce.BFloat16.sent"), System.Globalization.CultureInfo.InvariantCulture);
            var fp16 = long.Parse(MpiJob.Text(folder, r, "allreduce.Float16.sent"), System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(4 * (Elements + parts[r].Length), fp32);
            Assert.Equal(fp32, 2 * bf16);
            Assert.Equal(bf16, fp16);
        }

        var gathered = parts.SelectMany((p, r) => inputs[r].AsSpan((int)p.Start, (int)p.Length).ToArray()).ToArray();
        for (var r = 0; r < ranks; r++)
        {
            Assert.Equal(gathered, MpiJob.Floats(folder, r, "allgather"));
            Assert.Equal(inputs[ranks - 1], MpiJob.Floats(folder, r, "broadcast"));
            Assert.Equal("True False", MpiJob.Text(folder, r, "any"));
        }
    }

    [Fact]
    public void Started_without_mpiexec_the_world_is_one_process_that_loads_no_mpi_library()
    {
        // A library path that does not exist: a world of one must not need it.
        var env = new Dictionary<string, string> { ["PRECISIONPOLICY_MPI_LIBRARY"] = "/nonexistent/libmpich.so.12" };
        var (code, output, folder) = job.Start(0, "world", TimeSpan.FromMinutes(4), env);
        Assert.True(code == 0, output);
        Assert.Equal("0 1 False", MpiJob.Text(folder, 0, "world"));
    }

    [Fact]
    public void Started_by_a_launcher_without_libmpich_is_an_error_naming_the_package()
    {
        var env = new Dictionary<string, string> { ["PRECISIONPOLICY_MPI_LIBRARY"] = "/nonexistent/libmpich.so.12", ["PMI_RANK"] = "0", ["PMI_SIZE"] = "1" };
        var (code, output, _) = job.Start(0, "world", TimeSpan.FromMinutes(4), env);
        Assert.NotEqual(0, code);
        Assert.Contains("apt-get install -y mpich", output, StringComparison.Ordinal);
    }

    private static float[] HandSum(float[][] inputs, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var sum = tensor(inputs[0]).to(dtype);
        for (var r = 1; r < inputs.Length; r++) sum = sum.add(tensor(inputs[r]).to(dtype)); // stays 16-bit: one rounding per add
        return sum.to(ScalarType.Float32).data<float>().ToArray();
    }

    public void Dispose() => job.Dispose();
}
