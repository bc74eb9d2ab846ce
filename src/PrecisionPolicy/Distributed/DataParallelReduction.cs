using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Reports;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Distributed;

/// <summary>
/// What a <see cref="MasterWeightOptimizer"/> does across ranks (<see cref="DataParallelOptions"/>):
/// the agreement check and the broadcast at creation, the gradient reduction before the unscale, and
/// the global finite check and norm after it.
/// </summary>
internal sealed class DataParallelReduction
{
    private readonly ICommunicator communicator;
    private readonly ScalarType reduceDtype;
    private readonly (long Start, long Length) part;

    private DataParallelReduction(ICommunicator communicator, ScalarType reduceDtype, long elements)
    {
        this.communicator = communicator;
        this.reduceDtype = reduceDtype;
        part = communicator.Partition(elements)[communicator.Rank];
    }

    /// <summary>The communicator.</summary>
    public ICommunicator Communicator => communicator;

    /// <summary>The reduce dtype.</summary>
    public ScalarType ReduceDtype => reduceDtype;

    /// <summary>
    /// Checks on every rank that all ranks agree on <paramref name="description"/> (parameters and
    /// settings; the first difference is named on every rank), then broadcasts rank 0's masters.
    /// </summary>
    public static DataParallelReduction Create(DataParallelOptions options, IReadOnlyList<string> description, Tensor masters)
    {
        options.Validate();
        if (options.Stage != ZeroStage.None) throw ShardingRefused(options, masters.numel());
        var reduction = new DataParallelReduction(options.Communicator, options.EffectiveReduceDtype, masters.numel());
        var lines = description.Append($"reduce dtype {options.EffectiveReduceDtype}").Append($"policy {options.Policy ?? "(none)"}").ToArray();
        RequireAgreement(options.Communicator, lines);
        if (options.Communicator.WorldSize > 1)
            using (no_grad())
                options.Communicator.Broadcast(masters, root: 0);
        return reduction;
    }

    /// <summary>The lines ranks must agree on: each trainable parameter's name, shape and dtype, in order.</summary>
    public static List<string> Describe(IEnumerable<(string Name, Parameter Parameter)> trainable) =>
        trainable.Select((p, i) => string.Create(CultureInfo.InvariantCulture,
            $"parameter {i}: '{p.Name}' [{string.Join(", ", p.Parameter.shape)}] {p.Parameter.dtype}")).ToList();

    /// <summary>Replaces each rank's (loss-scaled) gradient with the sum over ranks of gradient / N, in the reduce dtype.</summary>
    public void Reduce(Tensor gradients)
    {
        var ranks = communicator.WorldSize;
        if (ranks == 1 && reduceDtype == ScalarType.Float32) return; // a sum of one FP32 value is itself
        if (ranks > 1)
        {
            using var divisor = ((double)ranks).ToScalar();
            gradients.div_(divisor);
        }
        communicator.AllReduceSum(gradients, reduceDtype);
    }

    /// <summary>
    /// Whether every rank's gradient is finite, and the global 2-norm: each rank checks its own part of the
    /// (identical) reduced gradient, and the parts' squared norms are summed in rank order on every rank,
    /// so every rank reaches the same decision and the same clipping coefficient, bit for bit.
    /// </summary>
    public (bool Finite, double Norm, double? Loss) FiniteNorm(Tensor gradients, Tensor? loss)
    {
        using var mine = gradients.narrow(0, part.Start, part.Length);
        var (finite, norm, lossValue) = GradientCheck.FiniteNorm(mine, loss);
        if (communicator.WorldSize == 1) return (finite, norm, lossValue);
        var all = communicator.AllGather(new[] { finite ? 1.0 : 0.0, finite ? norm * norm : 0.0 });
        if (all.Any(v => v[0] == 0.0)) return (false, double.NaN, lossValue);
        var sum = 0.0;
        foreach (var v in all) sum += v[1];
        return (true, Math.Sqrt(sum), lossValue);
    }

    // The plan a stage would give, reported with the refusal: K = 12 bytes of FP32 master and Adam moments
    // per parameter (the ZeRO paper's mixed-precision Adam), divided by the ranks from stage 1 on.
    private static NotSupportedException ShardingRefused(DataParallelOptions options, long elements)
    {
        var ranks = options.Communicator.WorldSize;
        var sharding = Sharding.Zero((int)options.Stage, ranks);
        var line = new MemoryPlanLine("masters + optimizer state", 12, 12.0 * elements, "FP32 master and Adam moments") { ShardedFrom = ZeroStage.OptimizerStates };
        var perRank = ShardedMemoryPlan.PerGpu(new[] { line }, sharding)[0].Bytes;
        return new NotSupportedException(string.Create(CultureInfo.InvariantCulture,
            $"{sharding.Name}: sharding is not implemented here (DataParallelOptions.Stage = {options.Stage}). Its plan: masters + Adam state " +
            $"{perRank:N0} bytes per rank instead of {12.0 * elements:N0} ({elements:N0} parameters, 12 bytes each, " +
            $"1/{ranks} per rank). Use ZeroStage.None: every rank then holds all masters and optimizer state."));
    }

    private static void RequireAgreement(ICommunicator communicator, string[] lines)
    {
        if (communicator.WorldSize == 1) return;
        var all = communicator.AllGatherBytes(Encoding.UTF8.GetBytes(string.Join('\n', lines)))
            .Select(b => Encoding.UTF8.GetString(b).Split('\n')).ToArray();
        for (var rank = 1; rank < all.Length; rank++)
        {
            var (reference, other) = (all[0], all[rank]);
            for (var i = 0; i < Math.Max(reference.Length, other.Length); i++)
            {
                var a = i < reference.Length ? reference[i] : "(nothing)";
                var b = i < other.Length ? other[i] : "(nothing)";
                if (a != b)
                    throw new InvalidOperationException(
                        $"Data-parallel ranks disagree: rank 0 has {a}, rank {rank} has {b} (first difference, line {i + 1}). " +
                        "Every rank must build the same model, with the same parameters in the same order and the same precision settings.");
            }
        }
    }
}
