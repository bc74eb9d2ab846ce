using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using PrecisionPolicy.Distributed;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Reduce;

/// <summary>
/// What the reduce dtype does to convergence: a BF16 MLP trained with K simulated ranks whose
/// gradients are ring-summed in float32, bfloat16 or float16, against one large-batch step (no
/// reduction), over several seeds; prints the median final loss per row as a markdown table.
/// </summary>
internal static class ReduceCommand
{
    private const int Inputs = 16;
    private const int Hidden = 64;
    private const int Outputs = 4;
    private const int Samples = 512;
    private const int Batch = 64;

    // reduce [seeds, default 7] [steps, default 300]
    public static int Run(string[] args)
    {
        var seeds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 7;
        var steps = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 300;
        Console.WriteLine($"BF16 MLP {Inputs}-{Hidden}-{Outputs}, {Samples} samples, batch {Batch} split over the ranks, {steps} steps, {seeds} seeds; final loss = MSE on all samples");
        Console.WriteLine("optimizer | ranks | reduce | median final loss | min .. max | median vs FP32 reduce | s/run");
        Console.WriteLine("---|---|---|---|---|---|---");
        var optimizers = new (string Name, Func<IEnumerable<TorchSharp.Modules.Parameter>, TorchSharp.Modules.OptimizerHelper> Create)[]
        {
            ("AdamW 1e-2", ps => optim.AdamW(ps, 1e-2)),
            ("SGD 0.05 m0.9", ps => optim.SGD(ps, 0.05, momentum: 0.9)),
        };
        foreach (var (name, create) in optimizers)
        {
            Row(name, "1", "none (one 64-row step)", seeds, s => Train(s, steps, create, null, ScalarType.Float32), null);
            foreach (var ranks in new[] { 4, 16 })
            {
                double? fp32 = null;
                foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16, ScalarType.Float16 })
                {
                    var median = Row(name, ranks.ToString(CultureInfo.InvariantCulture), dtype.ToString(), seeds, s => Train(s, steps, create, new SimulatedDataParallel(ranks), dtype), fp32);
                    fp32 ??= median;
                }
            }
        }
        return 0;
    }

    private static double Row(string optimizer, string ranks, string reduce, int seeds, Func<int, double> train, double? fp32)
    {
        var clock = Stopwatch.StartNew();
        var losses = Enumerable.Range(1, seeds).Select(train).OrderBy(l => l).ToArray();
        var median = losses.Length % 2 == 1 ? losses[losses.Length / 2] : (losses[losses.Length / 2 - 1] + losses[losses.Length / 2]) / 2;
        var versus = fp32 is { } reference ? ((median - reference) / reference).ToString("+0.00%;-0.00%", CultureInfo.InvariantCulture) : "";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{optimizer} | {ranks} | {reduce} | {median:F6} | {losses[0]:F6} .. {losses[^1]:F6} | {versus} | {clock.Elapsed.TotalSeconds / seeds:F1}"));
        return median;
    }

    private static double Train(int seed, int steps, Func<IEnumerable<TorchSharp.Modules.Parameter>, TorchSharp.Modules.OptimizerHelper> create, SimulatedDataParallel? mode, ScalarType reduceDtype)
    {
        using var scope = NewDisposeScope();
        var data = new Generator((ulong)seed);
        var x = randn(new long[] { Samples, Inputs }, generator: data);
        var y = x.matmul(randn(new long[] { Inputs, Outputs }, generator: data) / Math.Sqrt(Inputs)).tanh();
        manual_seed(seed);
        using var model = new ReduceMlp(Inputs, Hidden, Outputs).ApplyPrecisionPolicy();
        using var optimizer = model.CreateMixedPrecisionOptimizer(create);
        var batches = new Generator((ulong)(1000 + seed));
        for (var step = 0; step < steps; step++)
        {
            using var stepScope = NewDisposeScope();
            var rows = randint(Samples, new long[] { Batch }, generator: batches);
            var (bx, by) = (x.index_select(0, rows), y.index_select(0, rows));
            var outcome = mode is null
                ? model.TrainStep(optimizer, bx, by, (output, target) => nn.functional.mse_loss(output, target))
                : mode.Step(optimizer, bx, by, (input, target) => nn.functional.mse_loss(model.call(input), target), reduceDtype);
            if (!outcome.Applied) throw new InvalidOperationException($"step {step} skipped: {outcome}");
        }
        using var noGrad = no_grad();
        return nn.functional.mse_loss(model.call(x), y).item<float>();
    }
}
