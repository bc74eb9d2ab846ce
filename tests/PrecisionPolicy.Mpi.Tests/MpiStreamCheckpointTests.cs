using System;
using System.Globalization;
using System.IO;
using System.Linq;
using Xunit;

namespace PrecisionPolicy.Mpi.Tests;

/// <summary>
/// A checkpoint in one stream or snapshot on 2 real ranks: whole and usable without ZeRO; under ZeRO 1 and 2, where a
/// rank holds half the masters and optimizer state, Save(Stream), state_dict(), Load(Stream) and load_state_dict() are
/// refused on every rank before a byte moves, naming Save(path)/Load(path), and the ranks train on in step.
/// </summary>
public sealed class MpiStreamCheckpointTests : IDisposable
{
    private readonly MpiJob job = new(); // its folders are deleted when the test ends

    private static readonly (string Case, string Operation, string Nothing)[] Cases =
    [
        ("save-stream", "Save(Stream)", "written"),
        ("state-dict", "state_dict()", "written"),
        ("load-stream", "Load(Stream)", "loaded"),
        ("load-state-dict", "load_state_dict()", "loaded"),
    ];

    [Fact]
    public void Under_zero_stream_and_snapshot_checkpoints_are_refused_on_every_rank_with_nothing_written_read_or_changed()
    {
        var folder = job.Run(2, "streams");
        foreach (var rank in Enumerable.Range(0, 2))
        {
            var lines = MpiJob.Text(folder, rank, "streams.txt").Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split(' ')).ToDictionary(f => (f[0], f[1]), f => (Result: f[2], Unchanged: f[3], Position: long.Parse(f[4], CultureInfo.InvariantCulture)));
            Assert.Equal(12, lines.Count); // stages 0-2 x 4 cases

            // Stage 0: every rank holds everything, so the stream is a whole checkpoint (the snapshot has its bytes) and a whole one loads.
            var saved = lines[("0", "save-stream")];
            Assert.Equal("ok", saved.Result);
            Assert.True(saved.Position > 0);
            Assert.Equal(saved.Position, lines[("0", "state-dict")].Position);
            Assert.Equal(("ok", "changed"), (lines[("0", "load-stream")].Result, lines[("0", "load-stream")].Unchanged));
            Assert.True(lines[("0", "load-stream")].Position > 0); // read to its end
            Assert.Equal("ok", lines[("0", "load-state-dict")].Result);

            var messages = MpiJob.Text(folder, rank, "streams.messages").Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(8, messages.Length);
            foreach (var stage in new[] { "1", "2" })
                foreach (var (name, operation, nothing) in Cases)
                {
                    var line = lines[(stage, name)];
                    Assert.True(line.Result == "refused" && line.Unchanged == "unchanged", $"rank {rank}, stage {stage}, {name}: {line}");
                    Assert.Equal(name.EndsWith("stream", StringComparison.Ordinal) ? 0 : -1, line.Position); // the stream: not a byte written or read
                    var message = messages.Single(m => m.StartsWith($"{stage} {name} ", StringComparison.Ordinal))[(stage.Length + name.Length + 2)..];
                    Assert.StartsWith($"{operation} is refused under ZeRO stage {stage}: this rank (rank {rank} of 2) holds only its 1/2 shard of the FP32 " +
                                      "masters and optimizer state", message, StringComparison.Ordinal);
                    Assert.Contains("Call Save(path) and Load(path) on every rank with the same path", message, StringComparison.Ordinal);
                    Assert.EndsWith($"Nothing was {nothing}.", message, StringComparison.Ordinal);
                }
        }
        // The refusals were the same on both ranks: after one more step the replicas and shards still agree.
        foreach (var stage in new[] { 0, 1, 2 })
            Assert.Equal(MpiJob.Bytes(folder, 0, $"streams.masters.{stage}"), MpiJob.Bytes(folder, 1, $"streams.masters.{stage}"));
    }

    public void Dispose() => job.Dispose();
}
