using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using PrecisionPolicy.Distributed;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Scaling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PrecisionPolicy.Mpi.TestApp;

/// <summary>
/// A training loop that clips with TorchSharp between Backward and Step, under data parallel: for each ZeRO stage and
/// working dtype, each way of touching the gradients, what Step (or ZeroGrad) did and whether anything changed.
/// Writes one line per case: stage dtype case result unchanged pending norm (result: applied, skipped, refused-here,
/// refused-elsewhere), the first refusal's message, the final masters of each run, and the guard's cost.
/// </summary>
internal static class UserClipping
{
    private static readonly (ScalarType Dtype, LossScalerOptions Scaling, ScalarType Reduce)[] Precisions =
    [
        (ScalarType.BFloat16, LossScalerOptions.Off, ScalarType.BFloat16),
        (ScalarType.Float16, LossScalerOptions.Dynamic, ScalarType.Float32),
        (ScalarType.Float32, LossScalerOptions.Off, ScalarType.Float32),
    ];

    public static void Run(string output, Options o)
    {
        var world = MpiCommunicator.World;
        var stages = o.Get("stages", "0,1,2").Split(',').Select(s => (ZeroStage)int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var cases = o.Get("cases", "all"); // a comma-separated subset, to compare a run with a run without data parallel
        var reduceOverride = o.Get("reduce", ""); // one reduce dtype for all (a 16-bit reduction rounds even on one rank)
        var dataParallel = o.Get("dp", "on") == "on"; // off: one process without data parallel, the reference of the guard's exactness
        var log = new StringBuilder();
        string? message = null;
        foreach (var stage in stages)
            foreach (var (dtype, scaling, reduce) in Precisions)
            {
                manual_seed(1);
                var model = nn.Sequential(("fc1", nn.Linear(8, 16)), ("act", nn.Tanh()), ("fc2", nn.Linear(16, 1)));
                model.to(dtype);
                using var optimizer = new MasterWeightOptimizer(model, ps => optim.AdamW(ps, lr: 0.01), new MasterWeightOptions
                {
                    Scaling = scaling,
                    DataParallel = dataParallel ? new DataParallelOptions(world)
                    {
                        ReduceDtype = reduceOverride.Length > 0 ? Enum.Parse<ScalarType>(reduceOverride) : reduce,
                        Stage = stage,
                    } : null,
                });
                manual_seed(7 + world.Rank);
                void Backward(int micro)
                {
                    for (var k = 0; k < micro; k++)
                    {
                        using var scope = NewDisposeScope();
                        var x = randn(4, 8);
                        optimizer.Backward(nn.functional.mse_loss(model.call(x.to(dtype)).to(ScalarType.Float32), x.sum(1, keepdim: true).sin()));
                    }
                }
                void Case(string name, int micro, Func<double> touch, bool zeroGrad = false)
                {
                    if (cases != "all" && !cases.Split(',').Contains(name)) return;
                    Backward(micro);
                    var before = Snapshot(model, optimizer);
                    var norm = touch();
                    string result;
                    try
                    {
                        if (zeroGrad)
                        {
                            optimizer.ZeroGrad();
                            result = "dropped";
                        }
                        else
                        {
                            result = optimizer.Step().Applied ? "applied" : "skipped";
                        }
                    }
                    catch (InvalidOperationException e)
                    {
                        result = e.Message.Contains("on this rank", StringComparison.Ordinal) ? "refused-here" : "refused-elsewhere";
                        message ??= e.Message;
                    }
                    var unchanged = result is "applied" or "skipped" ? "-" : before.SequenceEqual(Snapshot(model, optimizer)) ? "unchanged" : "changed";
                    log.AppendLine(string.Create(CultureInfo.InvariantCulture,
                        $"{(int)stage} {dtype} {name} {result} {unchanged} {optimizer.PendingMicroBatches} {norm:R}"));
                }
                IEnumerable<Parameter> Parameters() => model.parameters();

                Case("none", 1, () => 0);
                // A reader: the first element of each .grad is the guard (+inf); reading changes nothing, so the step applies.
                Case("read", 2, () => Parameters().Select(p => p.grad!.flatten()[0].item<float>()).Min());
                Case("clip", 2, () => nn.utils.clip_grad_norm_(Parameters(), 1.0));
                Case("clip-inf", 1, () => nn.utils.clip_grad_norm_(Parameters(), double.PositiveInfinity)); // the idiom that only measures
                Case("clip-value", 1, () =>
                {
                    nn.utils.clip_grad_value_(Parameters(), 0.1);
                    return 0;
                });
                Case("clip-last-rank", 1, () => world.Rank == world.WorldSize - 1 ? nn.utils.clip_grad_norm_(Parameters(), 1.0) : 0);
                Case("clip-then-zero-grad", 1, () => nn.utils.clip_grad_norm_(Parameters(), 1.0), zeroGrad: true);
                Case("after", 1, () => 0); // the optimizer still trains after refusals
                Collectives.Write(output, world.Rank, $"masters.{(int)stage}.{dtype}", optimizer.GatherMasters());
            }
        File.WriteAllText(Path.Combine(output, $"rank{world.Rank}.userclip.txt"), log.ToString());
        File.WriteAllText(Path.Combine(output, $"rank{world.Rank}.userclip.message"), message ?? "");
    }

    // Every byte of the masters, the working weights, the inner optimizer's state tensors and the loss scale.
    private static byte[] Snapshot(nn.Module model, MasterWeightOptimizer optimizer)
    {
        var bytes = new List<byte>();
        bytes.AddRange(optimizer.GatherMasters().bytes.ToArray()); // a collective under ZeRO: every rank snapshots at the same point
        foreach (var p in model.parameters()) bytes.AddRange(p.detach().contiguous().bytes.ToArray());
        foreach (var state in optimizer.Inner.state_dict().State)
            foreach (var f in state.GetType().GetFields().Where(f => f.FieldType == typeof(Tensor)))
                if (f.GetValue(state) is Tensor t && !t.IsInvalid) bytes.AddRange(t.contiguous().bytes.ToArray());
        bytes.AddRange(BitConverter.GetBytes(optimizer.Scaler.Scale));
        return bytes.ToArray();
    }
}
