using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using PrecisionPolicy.Distributed;
using PrecisionPolicy.Optimization;
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

        var resume = o.Int("resume", -1); // at this step: save, build a new model and optimizer, load, go on
        (nn.Module<Tensor, Tensor>, MasterWeightOptimizer) Build(int seed)
        {
            manual_seed(seed);
            var m = nn.Sequential(("fc1", nn.Linear(8, 16)), ("act", nn.Tanh()), ("fc2", nn.Linear(16, 1)));
            m.to(working);
            return (m, new MasterWeightOptimizer(m, ps => optim.AdamW(ps, lr: 0.01), new MasterWeightOptions
            {
                Scaling = scaling,
                MaxGradNorm = clip,
                DataParallel = new DataParallelOptions(world) { ReduceDtype = reduce },
            }));
        }
        var (model, optimizer) = Build(1);

        manual_seed(7);
        var inputs = randn(steps, ranks * perRank, 8);
        var targets = inputs.sum(2, keepdim: true).sin();
        var (first, rows) = world.WorldSize == 1 ? (0, ranks * perRank) : (world.Rank * perRank, perRank);

        var log = new StringBuilder();
        for (var step = 0; step < steps; step++)
        {
            if (step == resume)
            {
                var path = Path.Combine(output, $"rank{world.Rank}.checkpoint");
                optimizer.Save(path);
                optimizer.Dispose();
                (model, optimizer) = Build(99); // other initial weights: the checkpoint must bring everything back
                optimizer.Load(path);
            }
            using var scope = NewDisposeScope();
            var x = inputs[step].narrow(0, first, rows).to(working);
            var y = targets[step].narrow(0, first, rows);
            var loss = nn.functional.mse_loss(model.call(x).to(ScalarType.Float32), y);
            optimizer.Backward(loss);
            var injected = inject == $"{world.Rank}:{step}";
            if (injected) optimizer.GradientOf(optimizer.ParameterNames[0]).fill_(float.PositiveInfinity);
            var before = inject.EndsWith($":{step}", StringComparison.Ordinal) ? Snapshot(model, optimizer) : null;
            var sent = world.BytesSent;
            var outcome = optimizer.Step();
            sent = world.BytesSent - sent;
            var unchanged = before is null ? "-" : before.SequenceEqual(Snapshot(model, optimizer)) ? "unchanged" : "changed";
            log.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{step} {outcome.Applied} {BitConverter.DoubleToInt64Bits(outcome.Scale):X16} {outcome.GradNorm:R} {loss.item<float>():R} {sent} {unchanged}"));
        }
        File.WriteAllText(Path.Combine(output, $"rank{world.Rank}.steps.txt"), log.ToString());
        var masters = cat(optimizer.ParameterNames.Select(n => optimizer.MasterOf(n).flatten()).ToArray());
        Collectives.Write(output, world.Rank, "masters", masters);
    }

    // Every byte of the masters, the working weights and the inner optimizer's state tensors.
    private static byte[] Snapshot(nn.Module model, MasterWeightOptimizer optimizer)
    {
        var bytes = new List<byte>();
        foreach (var n in optimizer.ParameterNames) bytes.AddRange(optimizer.MasterOf(n).contiguous().bytes.ToArray());
        foreach (var p in model.parameters()) bytes.AddRange(p.detach().contiguous().bytes.ToArray());
        foreach (var state in optimizer.Inner.state_dict().State)
            foreach (var f in state.GetType().GetFields(BindingFlags.Public | BindingFlags.Instance).Where(f => f.FieldType == typeof(Tensor)))
                if (f.GetValue(state) is Tensor t && !t.IsInvalid) bytes.AddRange(t.contiguous().bytes.ToArray());
        return bytes.ToArray();
    }
}
