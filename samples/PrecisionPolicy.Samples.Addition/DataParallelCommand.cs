using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using PrecisionPolicy.Casting;
using PrecisionPolicy.Distributed;
using PrecisionPolicy.Mpi;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Policy;
using PrecisionPolicy.Reports;
using PrecisionPolicy.Samples.Addition.Data;
using PrecisionPolicy.Samples.Addition.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Samples.Addition;

/// <summary>
/// `addition data-parallel`: the BF16 run trained data-parallel on the ranks of an MPI job
/// (`mpiexec -n 2 dotnet run -c Release --project samples/PrecisionPolicy.Samples.Addition -- data-parallel`),
/// each rank on its rows of each step's batch, gradients reduced in BF16 (`--reduce`), FP32 masters and Adam
/// state sharded over the ranks with `--zero 1|2`. Prints each rank's masters and Adam state (as its manifest
/// counts them) against the plan and the bytes it sent per step; rank 0 writes data-parallel.json. Started
/// without mpiexec it is one rank; with `--batch` N·b it sees the same data as N ranks of b.
/// </summary>
public static class DataParallelCommand
{
    public static Command Create()
    {
        var steps = new Option<int>("--steps") { Description = "Optimizer steps.", DefaultValueFactory = _ => 300 };
        var batch = new Option<int>("--batch") { Description = "Sequences per step on each rank (each step's batch is ranks x this, drawn once).", DefaultValueFactory = _ => 32 };
        var zero = new Option<int>("--zero") { Description = "ZeRO stage: 0 (every rank holds all masters and Adam state), 1 or 2 (1/N each).", DefaultValueFactory = _ => 0 };
        var reduce = new Option<string>("--reduce") { Description = "Gradient reduce dtype: bf16, fp16 or fp32.", DefaultValueFactory = _ => "bf16" };
        var output = new Option<string>("--output") { Description = "Folder for data-parallel.json.", DefaultValueFactory = _ => "." };
        var seed = new Option<int>("--seed") { Description = "Seed of the initial weights and of the batches.", DefaultValueFactory = _ => 1 };
        var command = new Command("data-parallel", "Train the BF16 run data-parallel on the ranks of an MPI job (start it with mpiexec -n N).");
        foreach (var option in new Option[] { steps, batch, reduce, zero, output, seed })
            command.Options.Add(option);
        command.SetAction(parse => Run(parse.GetValue(steps), parse.GetValue(batch), parse.GetValue(reduce)!, parse.GetValue(zero), parse.GetValue(output)!, parse.GetValue(seed)));
        return command;
    }

    private static int Run(int steps, int batch, string reduceName, int zero, string output, int seed)
    {
        if (zero is < 0 or > 2)
            throw new ArgumentException($"--zero must be 0, 1 or 2 (was {zero}); stage 3 is not implemented.");
        var reduce = reduceName switch
        {
            "bf16" => ScalarType.BFloat16,
            "fp16" => ScalarType.Float16,
            "fp32" => ScalarType.Float32,
            _ => throw new ArgumentException($"--reduce must be bf16, fp16 or fp32 (was {reduceName})."),
        };
        var world = MpiCommunicator.World;
        if (world.UsesMpi) set_num_threads(1); // the ranks share the machine's cores

        var task = new AdditionTask(2, seed: 1);
        using var precision = AutocastScope.Use(Precision.BF16);
        manual_seed(seed);
        using var model = new TinyGpt(new GptConfig(AdditionTask.VocabularySize, task.ContextLength, 48, 1, 4, 0, false)).ApplyPrecisionPolicy();
        using var optimizer = model.CreateMixedPrecisionOptimizer(ps => optim.AdamW(ps, 3e-3, weight_decay: 0.01),
            new MasterWeightOptions { MaxGradNorm = 1.0, DataParallel = new DataParallelOptions(world) { ReduceDtype = reduce, Stage = (ZeroStage)zero } });

        // Every rank draws each step's whole batch (ranks x batch sequences, one seed) and trains on its rows, so a
        // single process with --batch ranks x batch sees the same data.
        var random = new Random(1000 * seed);
        var losses = new List<double>();
        var sent = new List<long>();
        var times = new List<double>();
        for (var step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            var (all, allTargets) = task.Batch(batch * world.WorldSize, random);
            var (inputs, targets) = (all.narrow(0, world.Rank * batch, batch), allTargets.narrow(0, world.Rank * batch, batch));
            var before = world.BytesSent;
            var clock = Stopwatch.StartNew();
            var outcome = optimizer.Step(model.Loss(inputs, targets));
            times.Add(clock.Elapsed.TotalMilliseconds);
            sent.Add(world.BytesSent - before);
            losses.Add(outcome.Loss ?? double.NaN);
        }

        // Masters + Adam state as this rank's manifest counts them, and as the plan gives them per rank.
        var manifest = model.GetPrecisionManifest(optimizer);
        var held = (double)(manifest.BytesOf(TensorRole.MasterWeight) + manifest.BytesOf(TensorRole.OptimizerState));
        var plan = ShardedMemoryPlan.PerGpu(MemoryPlan.From(model.GetPrecisionManifest()), Sharding.Zero(zero, world.WorldSize))
            .Where(l => l.ShardedFrom == ZeroStage.OptimizerStates).Sum(l => l.Bytes);
        var parameters = model.parameters().Sum(p => p.numel());
        var tail = losses.Skip(losses.Count * 9 / 10).Average();
        var medianMs = times.Order().ElementAt(times.Count / 2);
        // One row per rank, gathered so that rank 0 can print and write them all.
        var rows = world.AllGather(new[] { tail, held, plan, sent.Skip(1).Average(), medianMs });
        if (world.Rank == 0)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"data parallel: {world.WorldSize} rank(s), ZeRO stage {zero}, reduce {reduce}, {steps} steps of {batch} sequences per rank, {parameters:N0} parameters"));
            Console.WriteLine("rank  final loss  masters+Adam bytes  plan bytes  bytes sent/step  median step ms");
            for (var r = 0; r < rows.Length; r++)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r,4}  {rows[r][0],10:F4}  {rows[r][1],18:N0}  {rows[r][2],10:N0}  {rows[r][3],15:N0}  {rows[r][4],14:F1}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"final loss of the whole batch (mean over ranks): {rows.Average(v => v[0]):F4}"));
            Directory.CreateDirectory(output);
            File.WriteAllText(Path.Combine(output, "data-parallel.json"), JsonSerializer.Serialize(new
            {
                ranks = world.WorldSize,
                reduce = reduce.ToString(),
                zeroStage = zero,
                steps,
                seed,
                batchPerRank = batch,
                parameters,
                finalLoss = rows.Average(v => v[0]),
                perRank = rows.Select((v, r) => new { rank = r, finalLoss = v[0], mastersAndStateBytes = v[1], planBytes = v[2], bytesSentPerStep = v[3], medianStepMilliseconds = v[4] }),
            }, new JsonSerializerOptions { WriteIndented = true }));
        }
        return 0;
    }
}
