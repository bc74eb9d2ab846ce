using System;
using System.IO;
using PrecisionPolicy.Distributed;
using PrecisionPolicy.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Mpi.TestApp;

/// <summary>Ranks that disagree on the model, and a rank that dies mid-training.</summary>
internal static class Misuse
{
    /// <summary>The last rank's hidden layer is one unit wider: every rank must refuse at creation.</summary>
    public static void Disagree(string output)
    {
        var world = MpiCommunicator.World;
        var hidden = world.Rank == world.WorldSize - 1 ? 17 : 16;
        var model = nn.Sequential(("fc1", nn.Linear(8, hidden)), ("fc2", nn.Linear(hidden, 1)));
        string result;
        try
        {
            using var optimizer = new MasterWeightOptimizer(model, ps => optim.AdamW(ps, lr: 0.01), new MasterWeightOptions { DataParallel = new DataParallelOptions(world) });
            result = "created";
        }
        catch (InvalidOperationException e)
        {
            result = e.Message;
        }
        File.WriteAllText(Path.Combine(output, $"rank{world.Rank}.disagree.txt"), result);
    }

    /// <summary>
    /// Rank 1 stops at step 3 while the others step on: <paramref name="how"/> "crash" (killed, as by the
    /// kernel), "exit" (Environment.Exit(3)) or "leave" (returns from the loop with exit code 0).
    /// </summary>
    public static void Die(string output, string how)
    {
        var world = MpiCommunicator.World;
        var model = nn.Linear(8, 1);
        using var optimizer = new MasterWeightOptimizer(model, ps => optim.SGD(ps, 0.1), new MasterWeightOptions { DataParallel = new DataParallelOptions(world) });
        for (var step = 0; step < 1000; step++)
        {
            if (world.Rank == 1 && step == 3)
            {
                if (how == "crash") System.Diagnostics.Process.GetCurrentProcess().Kill(); // no finalize, no exit handlers
                if (how == "exit") Environment.Exit(3);
                return;
            }
            using var scope = NewDisposeScope();
            optimizer.Step(model.call(ones(4, 8)).sum());
            File.WriteAllText(Path.Combine(output, $"rank{world.Rank}.die.txt"), $"{step}");
        }
    }

    /// <summary>A ZeRO stage: refused at creation, with the plan.</summary>
    public static void Zero(string output, int stage)
    {
        var world = MpiCommunicator.World;
        var model = nn.Linear(100, 10);
        string result;
        try
        {
            using var optimizer = new MasterWeightOptimizer(model, ps => optim.AdamW(ps, lr: 0.01),
                new MasterWeightOptions { DataParallel = new DataParallelOptions(world) { Stage = (ZeroStage)stage } });
            result = "created";
        }
        catch (NotSupportedException e)
        {
            result = e.Message;
        }
        File.WriteAllText(Path.Combine(output, $"rank{world.Rank}.zero.txt"), result);
    }
}
