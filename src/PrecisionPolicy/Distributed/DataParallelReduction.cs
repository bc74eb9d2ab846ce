using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using PrecisionPolicy.Optimization;
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
    /// settings; the first difference is named on every rank), then broadcasts rank 0's
    /// <paramref name="replicas"/> (the masters; under ZeRO the working weights, whose parts become the masters).
    /// </summary>
    /// <param name="options">The data-parallel settings.</param>
    /// <param name="description">The lines ranks must agree on.</param>
    /// <param name="elements">Trainable elements (the stage 3 refusal's plan counts them).</param>
    /// <param name="replicas">The buffers every rank must start from as rank 0 holds them.</param>
    public static DataParallelReduction Create(DataParallelOptions options, IReadOnlyList<string> description, long elements, IEnumerable<Tensor> replicas)
    {
        options.Validate();
        if (options.Stage == ZeroStage.Parameters) throw ShardingRefused(options, elements);
        var reduction = new DataParallelReduction(options.Communicator, options.EffectiveReduceDtype, elements);
        var lines = description
            .Append($"reduce dtype {options.EffectiveReduceDtype}")
            .Append($"ZeRO stage {(int)options.Stage}")
            .Append($"policy {options.Policy ?? "(none)"}").ToArray();
        RequireAgreement(options.Communicator, lines);
        if (options.Communicator.WorldSize > 1)
            using (no_grad())
                foreach (var buffer in replicas)
                    options.Communicator.Broadcast(buffer, root: 0);
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
    /// so every rank reaches the same decision and the same clipping coefficient, bit for bit. Also whether
    /// any rank's <paramref name="changedHere"/> is true (its user-visible gradients were changed), in the same exchange,
    /// as <paramref name="changedAnywhere"/>.
    /// </summary>
    public (bool Finite, double Norm, double? Loss) FiniteNorm(Tensor gradients, Tensor? loss, bool changedHere, out bool changedAnywhere)
    {
        using var mine = gradients.narrow(0, part.Start, part.Length);
        return FiniteNormOfPart(mine, loss, changedHere, out changedAnywhere);
    }

    /// <summary>
    /// <see cref="FiniteNorm"/> from this rank's part of the reduced gradient (under ZeRO, the shard's
    /// gradient, which is all a rank holds of it).
    /// </summary>
    public (bool Finite, double Norm, double? Loss) FiniteNormOfPart(Tensor mine, Tensor? loss, bool changedHere, out bool changedAnywhere)
    {
        var (finite, norm, lossValue) = GradientCheck.FiniteNorm(mine, loss);
        changedAnywhere = changedHere;
        if (communicator.WorldSize == 1) return (finite, norm, lossValue);
        // Each rank's flags (1: finite, 2: gradients changed) and squared norm: one exchange of two doubles per step.
        var all = communicator.AllGather(new[] { (finite ? 1.0 : 0.0) + (changedHere ? 2.0 : 0.0), finite ? norm * norm : 0.0 });
        changedAnywhere = all.Any(v => v[0] >= 2.0);
        if (all.Any(v => v[0] is 0.0 or 2.0)) return (false, double.NaN, lossValue);
        var sum = 0.0;
        foreach (var v in all) sum += v[1];
        return (true, Math.Sqrt(sum), lossValue);
    }

    // The plan stage 3 would give, reported with the refusal: the ZeRO paper's mixed-precision Adam,
    // 16-bit weights and gradients (2 + 2 bytes) and K = 12 bytes of FP32 master and moments per parameter,
    // all divided by the ranks, against stage 2, which keeps the 16-bit weights whole. Which stage divides
    // which line is ZeroStages.Partitions, as in Reports' ShardedMemoryPlan; Distributed names no Reports type
    // (the reports plan over the runtime, not the reverse).
    private static readonly (double BytesPerParameter, ZeroStage ShardedFrom)[] MixedPrecisionAdam =
        [(2, ZeroStage.Parameters), (2, ZeroStage.Gradients), (12, ZeroStage.OptimizerStates)];

    private static NotSupportedException ShardingRefused(DataParallelOptions options, long elements)
    {
        var ranks = options.Communicator.WorldSize;
        var (stage3, stage2, none) = (PerRank(ZeroStage.Parameters), PerRank(ZeroStage.Gradients), PerRank(ZeroStage.None));
        return new NotSupportedException(string.Create(CultureInfo.InvariantCulture,
            $"ZeRO stage 3 (FSDP FULL_SHARD) is not implemented: it would all-gather each layer's 16-bit weights before its forward and " +
            $"backward. Its plan for {elements:N0} parameters on {ranks} ranks: {stage3:N0} bytes per rank of weights, gradients, " +
            $"masters and Adam state (16 per parameter, 1/{ranks} each), against {stage2:N0} at stage 2 and {none:N0} unsharded. " +
            $"Use ZeroStage.Gradients (stage 2) or ZeroStage.OptimizerStates (stage 1)."));
        double PerRank(ZeroStage stage) =>
            MixedPrecisionAdam.Sum(line => line.BytesPerParameter * elements / (stage.Partitions(line.ShardedFrom) ? ranks : 1));
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
