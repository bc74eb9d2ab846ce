using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using PrecisionPolicy.Distributed;
using PrecisionPolicy.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Mpi.TestApp;

/// <summary>
/// A checkpoint in one stream or one in-memory snapshot under data parallel: for ZeRO stages 0, 1 and 2, each of
/// Save(Stream), state_dict(), Load(Stream) and load_state_dict() on a trained BF16 optimizer. The loads are given a
/// whole unsharded checkpoint of the same parameters (another optimizer's). Writes one line per case: stage case
/// result (ok or refused) unchanged (masters, working weights, inner state and scale) and the stream's length after a
/// save or position after a load; then each rank's first refusal message per case, and "trained" after a last step.
/// </summary>
internal static class StreamCheckpoints
{
    public static void Run(string output)
    {
        var world = MpiCommunicator.World;
        var log = new StringBuilder();
        var messages = new StringBuilder();
        // A whole checkpoint of these parameters, written by an optimizer without data parallel (the same on every rank).
        manual_seed(3);
        var other = Model();
        byte[] whole;
        MasterWeightStateDict snapshot;
        using (var reference = new MasterWeightOptimizer(other, ps => optim.AdamW(ps, lr: 0.01)))
        {
            reference.Step(nn.functional.mse_loss(other.call(ones(4, 8).to(ScalarType.BFloat16)).to(ScalarType.Float32), zeros(4, 1)));
            using var buffer = new MemoryStream();
            reference.Save(buffer);
            whole = buffer.ToArray();
            snapshot = reference.state_dict();
        }

        foreach (var stage in new[] { ZeroStage.None, ZeroStage.OptimizerStates, ZeroStage.Gradients })
        {
            manual_seed(1);
            var model = Model();
            using var optimizer = new MasterWeightOptimizer(model, ps => optim.AdamW(ps, lr: 0.01), new MasterWeightOptions
            {
                DataParallel = new DataParallelOptions(world) { ReduceDtype = ScalarType.BFloat16, Stage = stage },
            });
            manual_seed(7 + world.Rank);
            void Train()
            {
                using var scope = NewDisposeScope();
                var x = randn(4, 8);
                optimizer.Step(nn.functional.mse_loss(model.call(x.to(ScalarType.BFloat16)).to(ScalarType.Float32), x.sum(1, keepdim: true).sin()));
            }
            Train();
            Train();

            void Case(string name, Func<long> run)
            {
                var before = State(model, optimizer);
                lastPosition = -1; // no stream in this case
                string result;
                long position;
                try
                {
                    position = run();
                    result = "ok";
                }
                catch (InvalidOperationException e)
                {
                    result = "refused";
                    position = lastPosition;
                    messages.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{(int)stage} {name} {e.Message}"));
                }
                var unchanged = before.SequenceEqual(State(model, optimizer)) ? "unchanged" : "changed";
                log.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{(int)stage} {name} {result} {unchanged} {position}"));
            }
            Case("save-stream", () => Track(new MemoryStream(), s => optimizer.Save(s), s => s.Length));
            Case("state-dict", () => optimizer.state_dict().Length);
            Case("load-stream", () => Track(new MemoryStream(whole), s => optimizer.Load(s), s => s.Position));
            Case("load-state-dict", () =>
            {
                optimizer.load_state_dict(snapshot);
                return 0;
            });
            Train(); // the optimizer trains on after refusals, every rank together
            Collectives.Write(output, world.Rank, $"streams.masters.{(int)stage}", optimizer.GatherMasters());
        }
        File.WriteAllText(Path.Combine(output, $"rank{world.Rank}.streams.txt"), log.ToString());
        File.WriteAllText(Path.Combine(output, $"rank{world.Rank}.streams.messages"), messages.ToString());
    }

    // The stream's length or position when the call returned or threw.
    private static long lastPosition;

    private static long Track(MemoryStream stream, Action<MemoryStream> call, Func<MemoryStream, long> measure)
    {
        try
        {
            call(stream);
        }
        finally
        {
            lastPosition = measure(stream);
        }
        return lastPosition;
    }

    private static nn.Module<Tensor, Tensor> Model()
    {
        var m = nn.Sequential(("fc1", nn.Linear(8, 16)), ("act", nn.Tanh()), ("fc2", nn.Linear(16, 1)));
        m.to(ScalarType.BFloat16);
        return m;
    }

    private static byte[] State(nn.Module model, MasterWeightOptimizer optimizer) =>
        [.. Training.Snapshot(model, optimizer), .. BitConverter.GetBytes(optimizer.Scaler.Scale)];
}
