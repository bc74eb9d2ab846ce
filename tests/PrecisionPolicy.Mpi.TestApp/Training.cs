using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using PrecisionPolicy.Distributed;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Policy;
using PrecisionPolicy.Scaling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PrecisionPolicy.Mpi.TestApp;

/// <summary>
/// Data-parallel training of a small MLP with the master-weight optimizer (AdamW): every rank takes its
/// slice of each step's batch of ranks·b rows; a world of one takes the whole batch. Writes each step's
/// outcome and bytes sent, and the final masters.
/// </summary>
internal static class Training
{
    public static void Run(string output, Options o)
    {
        var world = MpiCommunicator.World;
        var ranks = o.Int("ranks", world.WorldSize); // the data split; the world's size under mpiexec
        var perRank = o.Int("b", 4);
        var steps = o.Int("steps", 20);
        var working = Enum.Parse<ScalarType>(o.Get("dtype", "Float32"));
        var reduce = Enum.Parse<ScalarType>(o.Get("reduce", "Float32"));
        var inject = o.Get("inject", ""); // "rank:step": that rank's gradient becomes inf at that step
        var scaling = o.Get("scaling", "off") == "dynamic" ? LossScalerOptions.Dynamic : LossScalerOptions.Off;
        double? clip = o.Get("clip", "") is { Length: > 0 } c ? double.Parse(c, CultureInfo.InvariantCulture) : null;
        var stage = (ZeroStage)o.Int("stage", 0);
        var micro = o.Int("micro", 1); // micro-batches per step: the rank's rows cut into this many
        var hidden = o.Int("hidden", 16);
        var load = o.Get("load", ""); // a checkpoint to load before training: refused ones are logged, with whether anything changed

        var resume = o.Int("resume", -1); // at this step: save, build a new model and optimizer, load, go on
        (nn.Module<Tensor, Tensor>, MasterWeightOptimizer) Build(int seed)
        {
            manual_seed(seed);
            var m = nn.Sequential(("fc1", nn.Linear(8, hidden)), ("act", nn.Tanh()), ("fc2", nn.Linear(hidden, 1)));
            m.to(working);
            return (m, new MasterWeightOptimizer(m, ps => optim.AdamW(ps, lr: 0.01), new MasterWeightOptions
            {
                Scaling = scaling,
                MaxGradNorm = clip,
                DataParallel = new DataParallelOptions(world) { ReduceDtype = reduce, Stage = stage },
            }));
        }
        var seed = o.Int("seed", 0); // 0: the fixed initial weights (seed 1) and data (seed 7) the other tests use
        var (model, optimizer) = Build(1 + 100 * seed);
        var initial = Evaluate(model, working);
        if (load.Length > 0)
        {
            var before = Snapshot(model, optimizer);
            string result;
            try
            {
                optimizer.Load(load);
                result = "loaded";
            }
            catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException)
            {
                result = e.Message;
            }
            File.WriteAllText(Path.Combine(output, $"rank{world.Rank}.load.txt"), $"{(before.SequenceEqual(Snapshot(model, optimizer)) ? "unchanged" : "changed")}\n{result}");
            if (result != "loaded") return;
        }

        manual_seed(7 + 100 * seed);
        var inputs = randn(steps, ranks * perRank, 8);
        var targets = inputs.sum(2, keepdim: true).sin();
        var (first, rows) = world.WorldSize == 1 ? (0, ranks * perRank) : (world.Rank * perRank, perRank);

        var log = new StringBuilder();
        for (var step = 0; step < steps; step++)
        {
            if (step == resume)
            {
                // Under ZeRO, Save and Load are collectives over one path (the manifest; each rank's shard beside it).
                var path = Path.Combine(output, stage == ZeroStage.None ? $"rank{world.Rank}.checkpoint" : "checkpoint");
                optimizer.Save(path);
                optimizer.Dispose();
                (model, optimizer) = Build(99); // other initial weights: the checkpoint must bring everything back
                optimizer.Load(path);
            }
            using var scope = NewDisposeScope();
            var x = inputs[step].narrow(0, first, rows).to(working);
            var y = targets[step].narrow(0, first, rows);
            var injected = inject == $"{world.Rank}:{step}";
            Tensor? loss = null;
            var sent = world.BytesSent; // the step's bytes: under ZeRO stage 2 the reduction runs in each backward
            for (var k = 0; k < micro; k++)
            {
                var (xs, ys) = (x.narrow(0, k * (rows / micro), rows / micro), y.narrow(0, k * (rows / micro), rows / micro));
                var part = nn.functional.mse_loss(model.call(xs).to(ScalarType.Float32), ys).div(micro);
                loss = loss is null ? part.detach() : loss + part.detach();
                // The injected overflow: this rank's gradients become inf/NaN (a loss of inf) before any reduction.
                optimizer.Backward(injected ? part.mul(float.PositiveInfinity) : part);
            }
            var before = inject.EndsWith($":{step}", StringComparison.Ordinal) ? Snapshot(model, optimizer) : null;
            var outcome = optimizer.Step();
            sent = world.BytesSent - sent;
            var unchanged = before is null ? "-" : before.SequenceEqual(Snapshot(model, optimizer)) ? "unchanged" : "changed";
            log.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{step} {outcome.Applied} {BitConverter.DoubleToInt64Bits(outcome.Scale):X16} {outcome.GradNorm:R} {loss!.item<float>():R} {sent} {unchanged}"));
        }
        File.WriteAllText(Path.Combine(output, $"rank{world.Rank}.steps.txt"), log.ToString());
        Collectives.Write(output, world.Rank, "masters", optimizer.GatherMasters());
        File.WriteAllText(Path.Combine(output, $"rank{world.Rank}.eval.txt"), $"{initial} {Evaluate(model, working)}");
        Collectives.Write(output, world.Rank, "working", cat(model.parameters().Select(p => p.detach().flatten().to(ScalarType.Float32)).ToArray()));
        File.WriteAllText(Path.Combine(output, $"rank{world.Rank}.memory.txt"), $"{optimizer.Memory().MasterWeights} {optimizer.Memory().OptimizerState}");
    }

    // The loss on 256 held-out rows, the same on every rank (replicas hold the same weights).
    private static string Evaluate(nn.Module<Tensor, Tensor> model, ScalarType working)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var generator = new Generator(12345);
        var x = randn(256, 8, generator: generator);
        var loss = nn.functional.mse_loss(model.call(x.to(working)).to(ScalarType.Float32), x.sum(1, keepdim: true).sin());
        return loss.item<float>().ToString("R", CultureInfo.InvariantCulture);
    }

    // Every byte of the masters, the working weights and the inner optimizer's state tensors.
    internal static byte[] Snapshot(nn.Module model, MasterWeightOptimizer optimizer)
    {
        var bytes = new List<byte>();
        bytes.AddRange(optimizer.GatherMasters().bytes.ToArray()); // a collective under ZeRO: every rank snapshots at the same step
        foreach (var p in model.parameters()) bytes.AddRange(p.detach().contiguous().bytes.ToArray());
        foreach (var state in optimizer.Inner.state_dict().State)
            foreach (var f in state.GetType().GetFields(BindingFlags.Public | BindingFlags.Instance).Where(f => f.FieldType == typeof(Tensor)))
                if (f.GetValue(state) is Tensor t && !t.IsInvalid) bytes.AddRange(t.contiguous().bytes.ToArray());
        return bytes.ToArray();
    }
}
