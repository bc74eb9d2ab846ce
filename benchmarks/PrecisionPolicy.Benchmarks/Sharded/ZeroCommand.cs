using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using PrecisionPolicy.Distributed;
using PrecisionPolicy.Mpi;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Policy;
using PrecisionPolicy.Reports;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Sharded;

/// <summary>
/// Data parallel on MPI, unsharded and ZeRO 1/2, FP32 and BF16 reduction: the median step time, the bytes each
/// rank hands to MPI per step and the bytes of FP32 masters and Adam state it holds, measured on a BF16 MLP with
/// the configurations interleaved step by step (so a load change on the machine hits them alike). Then the
/// per-GPU plan of a 7B and a 7.5B model on 8 and 64 GPUs, beside the figures of the ZeRO paper.
/// Run it alone (1 rank) and under <c>mpiexec -n 2</c>.
/// </summary>
internal static class ZeroCommand
{
    // zero [steps, default 40] [width, default 1024]
    public static int Run(string[] args)
    {
        var steps = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 40;
        var width = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1024;
        var world = MpiCommunicator.World;
        var configurations = (from stage in new[] { ZeroStage.None, ZeroStage.OptimizerStates, ZeroStage.Gradients }
                              from reduce in new[] { ScalarType.Float32, ScalarType.BFloat16 }
                              select new Configuration(stage, reduce, world, width)).ToArray();
        try
        {
            var random = new Generator((ulong)(1234 + world.Rank)); // each rank its own rows
            for (var step = 0; step < steps; step++)
            {
                using var scope = NewDisposeScope();
                // Every configuration steps on the same rows.
                var x = randn(new long[] { 32, width }, generator: random).to(ScalarType.BFloat16);
                var y = x.to(ScalarType.Float32).sum(1, keepdim: true).sin();
                foreach (var c in configurations) c.Step(x, y);
            }
            var rows = configurations.Select(c => world.AllGather(c.Summary())).ToArray(); // every rank's row, on every rank
            if (world.Rank == 0) Print(world.WorldSize, steps, width, configurations, rows);
        }
        finally
        {
            foreach (var c in configurations) c.Dispose();
        }
        if (world.Rank == 0) PrintPlans();
        return 0;
    }

    private static void Print(int ranks, int steps, int width, Configuration[] configurations, double[][][] rows)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"BF16 MLP {width}-{width}-1 ({configurations[0].Parameters:N0} parameters), AdamW, {ranks} rank(s) of 32 rows, {steps} steps, one torch thread per rank"));
        Console.WriteLine("| ranks | ZeRO stage | reduce | median step ms (rank 0 / max) | bytes sent per step per rank | masters + Adam bytes per rank (plan) | final loss |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        for (var i = 0; i < configurations.Length; i++)
        {
            var c = configurations[i];
            var r = rows[i];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {ranks} | {(int)c.Stage} | {c.Reduce} | {r[0][0]:F1} / {r.Max(v => v[0]):F1} | {r[0][1]:N0} | {r.Max(v => v[2]):N0} ({c.PlanBytes:N0}) | {r.Average(v => v[3]):F4} |"));
        }
    }

    // The ZeRO paper (Rajbhandari et al. 2020, figure 1): 7.5B parameters, 64 GPUs, mixed-precision Adam (K = 12).
    private static readonly (ZeroStage Stage, double Gigabytes)[] PaperFigures =
        [(ZeroStage.None, 120), (ZeroStage.OptimizerStates, 31.4), (ZeroStage.Gradients, 16.6), (ZeroStage.Parameters, 1.9)];

    private static void PrintPlans()
    {
        Console.WriteLine();
        Console.WriteLine("Per-GPU plan (ShardedMemoryPlan over MemoryPlan.For, BF16, no activations), GB = 1e9 bytes");
        Console.WriteLine("| parameters | GPUs | stage 0 | stage 1 | stage 2 | stage 3 |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var (parameters, gpus) in new[] { (7e9, 8), (7e9, 64), (7.5e9, 64) })
        {
            var lines = MemoryPlan.For(parameters, Precision.BF16);
            var perStage = Enumerable.Range(0, 4).Select(s => MemoryPlan.Total(ShardedMemoryPlan.PerGpu(lines, Sharding.Zero(s, gpus))) / 1e9);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {parameters / 1e9:G3}B | {gpus} | {string.Join(" | ", perStage.Select(g => g.ToString("F2", CultureInfo.InvariantCulture)))} |"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| 7.5B, ZeRO paper | 64 | {string.Join(" | ", PaperFigures.Select(f => f.Gigabytes.ToString("G3", CultureInfo.InvariantCulture)))} |"));
    }

    /// <summary>One model and optimizer, stepped and timed.</summary>
    private sealed class Configuration : IDisposable
    {
        private readonly nn.Module<Tensor, Tensor> model;
        private readonly MasterWeightOptimizer optimizer;
        private readonly MpiCommunicator world;
        private readonly List<double> milliseconds = new();
        private readonly List<long> sent = new();
        private double lastLoss;

        public Configuration(ZeroStage stage, ScalarType reduce, MpiCommunicator world, int width)
        {
            (Stage, Reduce, this.world) = (stage, reduce, world);
            manual_seed(1);
            model = nn.Sequential(("fc1", nn.Linear(width, width)), ("act", nn.Tanh()), ("fc2", nn.Linear(width, 1)));
            model.to(ScalarType.BFloat16);
            optimizer = new MasterWeightOptimizer(model, ps => optim.AdamW(ps, 1e-3),
                new MasterWeightOptions { MaxGradNorm = 1.0, DataParallel = new DataParallelOptions(world) { ReduceDtype = reduce, Stage = stage } });
            Parameters = model.parameters().Sum(p => p.numel());
            var plan = MemoryPlan.For(Parameters, Precision.BF16);
            PlanBytes = ShardedMemoryPlan.PerGpu(plan, Sharding.Zero((int)stage, world.WorldSize))
                .Where(l => l.ShardedFrom == ZeroStage.OptimizerStates).Sum(l => l.Bytes);
        }

        public ZeroStage Stage { get; }

        public ScalarType Reduce { get; }

        public long Parameters { get; }

        public double PlanBytes { get; }

        public void Step(Tensor x, Tensor y)
        {
            var before = world.BytesSent;
            var clock = Stopwatch.StartNew();
            var loss = nn.functional.mse_loss(model.call(x).to(ScalarType.Float32), y);
            var outcome = optimizer.Step(loss);
            milliseconds.Add(clock.Elapsed.TotalMilliseconds);
            sent.Add(world.BytesSent - before);
            lastLoss = outcome.Loss ?? double.NaN;
        }

        // median step ms, bytes sent per step (after the first), masters + Adam bytes held, last loss.
        public double[] Summary()
        {
            var memory = optimizer.Memory();
            // Masters of 16-bit parameters as the manifest counts them: the compact buffer holds only this rank's parts.
            var held = memory.MasterWeights + memory.OptimizerState;
            return [milliseconds.Order().ElementAt(milliseconds.Count / 2), sent.Skip(1).Average(), held, lastLoss];
        }

        public void Dispose()
        {
            optimizer.Dispose();
            model.Dispose();
        }
    }
}
