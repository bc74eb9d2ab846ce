using System;
using System.Globalization;
using System.IO;
using System.Linq;
using Xunit;

namespace PrecisionPolicy.Mpi.Tests;

/// <summary>
/// TorchSharp's own clipping between Backward and Step under data parallel: no rank holds the reduced gradient there, so a
/// clip could only use one rank's norm. Every combination of ZeRO stage (0, 1, 2) and precision (BF16, FP16 with dynamic
/// loss scaling, FP32) on 1, 2 and 3 ranks refuses it on every rank, naming maxGradNorm, with nothing changed.
/// </summary>
public sealed class MpiUserClippingTests : IDisposable
{
    private readonly MpiJob job = new(); // its folders are deleted when the test ends

    private static readonly string[] Refused = ["clip", "clip-inf", "clip-value", "clip-then-zero-grad"];

    [Theory]
    [InlineData(0)] // no mpiexec: a world of one refuses as larger worlds do
    [InlineData(2)]
    [InlineData(3)]
    public void A_clip_between_backward_and_step_is_refused_on_every_rank_naming_max_grad_norm_with_nothing_changed(int ranks)
    {
        var folder = job.Run(ranks, "userclip");
        var world = Math.Max(1, ranks);
        foreach (var rank in Enumerable.Range(0, world))
        {
            var lines = MpiJob.Text(folder, rank, "userclip.txt").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).ToArray();
            Assert.Equal(3 * 3 * 8, lines.Length); // stages x precisions x cases
            foreach (var f in lines)
            {
                var (what, result, unchanged, pending, norm) = (string.Join(' ', f[..3]), f[3], f[4], f[5], double.Parse(f[6], CultureInfo.InvariantCulture));
                switch (f[2])
                {
                    case "none" or "after":
                        Assert.True(result == "applied", $"rank {rank}, {what}: {result}");
                        break;
                    case "read": // reading .grad changes nothing: the step goes on (FP16 at scale 2^16 overflows here and skips)
                        Assert.True(result == (f[1] == "Float16" ? "skipped" : "applied"), $"rank {rank}, {what}: {result}");
                        Assert.Equal(double.PositiveInfinity, norm); // the guard, as a reader sees it
                        break;
                    case "clip-last-rank": // one rank clips: every rank refuses
                        Assert.True(result == (rank == world - 1 ? "refused-here" : "refused-elsewhere"), $"rank {rank}, {what}: {result}");
                        break;
                    default:
                        Assert.Contains(f[2], Refused);
                        Assert.True(result == "refused-here", $"rank {rank}, {what}: {result}");
                        if (f[2] != "clip-value") Assert.Equal(double.PositiveInfinity, norm); // clip_grad_norm_ returned inf: not a plausible local norm
                        break;
                }
                if (result.StartsWith("refused", StringComparison.Ordinal))
                {
                    Assert.True(unchanged == "unchanged", $"rank {rank}, {what}: masters, Adam state, working weights or scale changed");
                    Assert.Equal("0", pending); // the step's gradients were dropped
                }
            }
            var message = MpiJob.Text(folder, rank, "userclip.message");
            Assert.StartsWith($"Step() refused: the gradients of the module's parameters were changed between Backward and Step on this rank (rank {rank} of {world})", message, StringComparison.Ordinal);
            Assert.Contains("maxGradNorm", message, StringComparison.Ordinal);
        }
        // Refusals happened together: the replicas and shards still agree after training on.
        foreach (var masters in Directory.GetFiles(folder, "rank0.masters.*.bin"))
            foreach (var rank in Enumerable.Range(1, world - 1))
                Assert.Equal(File.ReadAllBytes(masters), File.ReadAllBytes(masters.Replace("rank0.", $"rank{rank}.", StringComparison.Ordinal)));
    }

    [Fact]
    public void The_guard_on_the_shown_gradients_changes_no_bit_of_training()
    {
        // The same steps with data parallel (one rank, FP32 reduction, stages 0-2, a reader between Backward and Step) and
        // without: the guard's +inf is put back before anything uses the gradients.
        string[] common = ["cases=none,read,after", "reduce=Float32"];
        var guarded = job.Run(0, "userclip", [.. common, "dp=on"]);
        var plain = job.Run(0, "userclip", [.. common, "dp=off"]);
        var files = Directory.GetFiles(guarded, "rank0.masters.*.bin");
        Assert.Equal(9, files.Length);
        foreach (var file in files)
            Assert.Equal(File.ReadAllBytes(Path.Combine(plain, Path.GetFileName(file))), File.ReadAllBytes(file));
        // The same outcomes (the last field, what the reader saw, is the guard's +inf in one and a gradient in the other).
        Assert.Equal(Outcomes(plain), Outcomes(guarded));
        Assert.Equal(27, Outcomes(plain).Length);
    }

    private static string[] Outcomes(string folder) =>
        MpiJob.Text(folder, 0, "userclip.txt").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => string.Join(' ', l.Split(' ')[..^1])).ToArray();

    public void Dispose() => job.Dispose();
}
