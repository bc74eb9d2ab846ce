using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using PrecisionPolicy.Distributed;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Reports;
using PrecisionPolicy.Policy;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PrecisionPolicy.Mpi.TestApp;

/// <summary>A BF16 regressor whose gradients are reduced in BF16.</summary>
[Autocast(Precision.BF16, ReduceDtype = AutocastReduce.BFloat16)]
public sealed partial class Bf16Regressor : Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly Linear fc2;

    public Bf16Regressor(int hidden = 16) : base(nameof(Bf16Regressor))
    {
        fc1 = Linear(8, hidden);
        fc2 = Linear(hidden, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => fc2.call(functional.tanh(fc1.call(x)));
}

/// <summary>The same parameters with another policy: FP32 reduction.</summary>
[Autocast(Precision.BF16, ReduceDtype = AutocastReduce.Float32)]
public sealed partial class Fp32ReducedRegressor : Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly Linear fc2;

    public Fp32ReducedRegressor(int hidden = 16) : base(nameof(Bf16Regressor))
    {
        fc1 = Linear(8, hidden);
        fc2 = Linear(hidden, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => fc2.call(functional.tanh(fc1.call(x)));
}

/// <summary>
/// The user's code: the generated optimizer with a communicator, then the generated TrainStep and
/// AccumulateStep. "policy=other" on the last rank builds the FP32-reduced twin (refused at creation).
/// </summary>
internal static class Generated
{
    public static void Run(string output, Options o)
    {
        var world = MpiCommunicator.World;
        manual_seed(1);
        Module<Tensor, Tensor> model = o.Get("policy", "same") == "other" && world.Rank == world.WorldSize - 1
            ? new Fp32ReducedRegressor(o.Int("hidden", 16)).ApplyPrecisionPolicy()
            : new Bf16Regressor(o.Int("hidden", 16)).ApplyPrecisionPolicy();
        var stage = (ZeroStage)o.Int("stage", 0);
        var options = new MasterWeightOptions { DataParallel = new DataParallelOptions(world) { Stage = stage } }; // all a user adds
        MasterWeightOptimizer optimizer;
        try
        {
            optimizer = model is Bf16Regressor b
                ? b.CreateMixedPrecisionOptimizer(ps => optim.AdamW(ps, lr: 0.01), options)
                : ((Fp32ReducedRegressor)model).CreateMixedPrecisionOptimizer(ps => optim.AdamW(ps, lr: 0.01), options);
        }
        catch (System.InvalidOperationException e)
        {
            File.WriteAllText(Path.Combine(output, $"rank{world.Rank}.generated.txt"), e.Message);
            return;
        }

        manual_seed(7 + world.Rank);
        var log = new StringBuilder();
        var regressor = (Bf16Regressor)model;
        for (var step = 0; step < 6; step++)
        {
            using var scope = NewDisposeScope();
            var x = randn(4, 8);
            var y = x.sum(1, keepdim: true).sin();
            var sent = world.BytesSent;
            StepOutcome outcome;
            if (step % 2 == 0)
            {
                outcome = regressor.TrainStep(optimizer, x, y, (p, t) => functional.mse_loss(p, t));
            }
            else
            {
                regressor.AccumulateStep(optimizer, x, y, (p, t) => functional.mse_loss(p, t));
                regressor.AccumulateStep(optimizer, x.flip(0), y.flip(0), (p, t) => functional.mse_loss(p, t));
                outcome = optimizer.Step();
            }
            log.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{step} {outcome.Applied} {world.BytesSent - sent}"));
        }
        File.WriteAllText(Path.Combine(output, $"rank{world.Rank}.generated.txt"), log.ToString());
        Collectives.Write(output, world.Rank, "masters", optimizer.GatherMasters());
        // Masters + optimizer state as this rank's manifest counts them, and as the plan gives them per rank.
        var held = regressor.GetPrecisionManifest(optimizer);
        var plan = ShardedMemoryPlan.PerGpu(MemoryPlan.From(regressor.GetPrecisionManifest()), Sharding.Zero((int)stage, world.WorldSize));
        var planned = plan.Where(l => l.Role is "master weights" or "optimizer state").Sum(l => l.Bytes);
        File.WriteAllText(Path.Combine(output, $"rank{world.Rank}.memory.txt"), string.Create(CultureInfo.InvariantCulture,
            $"{held.BytesOf(TensorRole.MasterWeight) + held.BytesOf(TensorRole.OptimizerState)} {planned:R}"));
        var working = cat(regressor.parameters().Select(p => p.detach().flatten().to(ScalarType.Float32)).ToArray());
        Collectives.Write(output, world.Rank, "working", working);
    }
}
