using System;
using System.IO;
using System.Linq;
using PrecisionPolicy.Distributed;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Tests.Optimization;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Distributed;

/// <summary>
/// Under ZeRO a rank holds only its shard of the masters and optimizer state, so a checkpoint in one stream or one
/// snapshot (Save(Stream), state_dict(), Load(Stream), load_state_dict()) is refused before a byte moves, naming the
/// sharded Save(path)/Load(path). Here in a world of one, which refuses as larger ones do (the MPI tests run 2 ranks).
/// </summary>
public sealed class ZeroStreamCheckpointTests : IDisposable
{
    private readonly DisposeScope scope = NewDisposeScope();
    private readonly (Tensor X, Tensor Y) data = Fixtures.Regression(16, 16, 4, seed: 5);
    private readonly string folder = Directory.CreateTempSubdirectory("pp-zero-streams-").FullName;

    public void Dispose()
    {
        scope.Dispose();
        Directory.Delete(folder, recursive: true);
    }

    private static MasterWeightOptimizer Optimizer(nn.Module model, ZeroStage? stage) =>
        new(model, ps => optim.AdamW(ps, 1e-2), new MasterWeightOptions
        {
            DataParallel = stage is { } s ? new DataParallelOptions(new SingleRankCommunicator()) { Stage = s } : null,
        });

    // A whole checkpoint of the same parameters, from an optimizer without data parallel, as a stream's bytes and a snapshot.
    private (byte[] Bytes, MasterWeightStateDict Snapshot) WholeCheckpoint()
    {
        var model = Fixtures.Mlp(ScalarType.BFloat16, seed: 11);
        using var optimizer = Optimizer(model, null);
        Fixtures.TrainMse(model, optimizer, data.X, data.Y, 2);
        using var stream = new MemoryStream();
        optimizer.Save(stream);
        return (stream.ToArray(), optimizer.state_dict());
    }

    [Theory]
    [InlineData(ZeroStage.OptimizerStates)]
    [InlineData(ZeroStage.Gradients)]
    public void Stream_and_snapshot_checkpoints_are_refused_under_zero_before_a_byte_moves_naming_save_path(ZeroStage stage)
    {
        var (whole, snapshot) = WholeCheckpoint();
        var model = Fixtures.Mlp(ScalarType.BFloat16);
        using var optimizer = Optimizer(model, stage);
        Fixtures.TrainMse(model, optimizer, data.X, data.Y, 3);
        var before = OptimizerSnapshot.Of(optimizer, model);

        var output = new MemoryStream();
        AssertRefused("Save(Stream)", "written", () => optimizer.Save(output));
        Assert.Equal(0, output.Length);
        AssertRefused("state_dict()", "written", () => optimizer.state_dict());
        var input = new MemoryStream(whole);
        AssertRefused("Load(Stream)", "loaded", () => optimizer.Load(input));
        Assert.Equal(0, input.Position);
        AssertRefused("load_state_dict()", "loaded", () => optimizer.load_state_dict(snapshot));
        OptimizerSnapshot.Of(optimizer, model).AssertEqual(before);

        // The named alternative works, and training goes on.
        var path = Path.Combine(folder, "checkpoint");
        optimizer.Save(path);
        Fixtures.TrainMse(model, optimizer, data.X, data.Y, 2);
        Assert.NotEqual(before.Masters, OptimizerSnapshot.Of(optimizer, model).Masters);
        optimizer.Load(path);
        OptimizerSnapshot.Of(optimizer, model).AssertEqual(before);
        var files = Directory.GetFiles(folder).Select(f => Path.GetFileName(f)!).Order().ToArray(); // the manifest and one shard
        Assert.Equal(2, files.Length);
        Assert.Equal("checkpoint", files[0]);
        Assert.Matches(@"^checkpoint\.zero-[0-9a-f]{32}\.rank0-of-1$", files[1]);

        void AssertRefused(string operation, string nothing, Action call)
        {
            var e = Assert.Throws<InvalidOperationException>(call);
            Assert.StartsWith($"{operation} is refused under ZeRO stage {(int)stage}: this rank (rank 0 of 1) holds its shard in ZeRO's layout", e.Message, StringComparison.Ordinal);
            Assert.Contains("Call Save(path) and Load(path) on every rank with the same path", e.Message, StringComparison.Ordinal);
            Assert.EndsWith($"Nothing was {nothing}.", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Without_zero_a_data_parallel_stream_checkpoint_is_whole_and_loads_without_data_parallel()
    {
        // Stage 0 keeps every master and all optimizer state on every rank: its stream is what an unsharded run writes.
        var model = Fixtures.Mlp(ScalarType.BFloat16);
        using var optimizer = Optimizer(model, ZeroStage.None);
        Fixtures.TrainMse(model, optimizer, data.X, data.Y, 3);
        using var stream = new MemoryStream();
        optimizer.Save(stream);
        Assert.Equal(stream.Length, optimizer.state_dict().Length);

        var plain = Fixtures.Mlp(ScalarType.BFloat16, seed: 11);
        using var unsharded = Optimizer(plain, null);
        stream.Position = 0;
        unsharded.Load(stream);
        var (a, b) = (OptimizerSnapshot.Of(optimizer, model), OptimizerSnapshot.Of(unsharded, plain));
        Assert.Equal(a.Masters, b.Masters);
        Assert.Equal(a.Working, b.Working);
        Assert.Equal(a.Inner, b.Inner);
    }
}
