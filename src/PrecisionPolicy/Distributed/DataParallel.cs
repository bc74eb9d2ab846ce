using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy.Casting;
using PrecisionPolicy.Optimization;
using static TorchSharp.torch;

namespace PrecisionPolicy.Distributed;

/// <summary>
/// Data-parallel steps of a <see cref="MasterWeightOptimizer"/> with gradients reduced in a chosen
/// dtype (DeepSpeed's <c>communication_data_type</c>, FSDP's <c>reduce_dtype</c>): each rank's
/// FP32 gradient, loss-scaled for the wire, is divided by the number of ranks, as PyTorch DDP does before
/// its all-reduce, reduced, and handed to the FP32 masters, which then step as usual.
/// </summary>
public static class DataParallel
{
    /// <summary>
    /// One step on one machine that treats <paramref name="ranks"/> micro-batches as that many ranks:
    /// <paramref name="lossOfRank"/>(k) is rank k's loss; their gradients are ring-summed in
    /// <paramref name="reduceDtype"/> (<see cref="RingAllReduce"/>), so the effect of BF16 or FP16
    /// reduction on convergence shows before scaling out. Gradients pending in the optimizer are dropped.
    /// </summary>
    public static StepOutcome SimulatedStep(MasterWeightOptimizer optimizer, int ranks, Func<int, Tensor> lossOfRank, ScalarType reduceDtype)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(lossOfRank);
        ArgumentOutOfRangeException.ThrowIfLessThan(ranks, 1);
        RequireReduceDtype(reduceDtype);

        using var scope = NewDisposeScope();
        var gradients = new List<Tensor>(ranks);
        for (var k = 0; k < ranks; k++)
        {
            optimizer.ZeroGrad();
            optimizer.Backward(lossOfRank(k));
            gradients.Add(ReadFlat(optimizer).mul(LossScale(optimizer)).div_(ranks));
        }
        WriteFlat(optimizer, RingAllReduce.Sum(gradients, reduceDtype).div_(LossScale(optimizer)));
        return optimizer.Step();
    }

    /// <summary>
    /// One step of this rank in real data-parallel training: backward of this rank's
    /// <paramref name="loss"/>, the gradient reduced through <paramref name="backend"/> in
    /// <paramref name="reduceDtype"/>, then the optimizer's step.
    /// </summary>
    public static StepOutcome Step(MasterWeightOptimizer optimizer, IGradientAllReduce backend, Tensor loss, ScalarType reduceDtype)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(backend);
        RequireReduceDtype(reduceDtype);
        if (backend.WorldSize < 1) throw new ArgumentException($"The backend's WorldSize must be >= 1 (was {backend.WorldSize}).", nameof(backend));

        using var scope = NewDisposeScope();
        optimizer.Backward(loss);
        var gradient = ReadFlat(optimizer).mul(LossScale(optimizer)).div_(backend.WorldSize);
        backend.AllReduceSum(gradient, reduceDtype);
        WriteFlat(optimizer, gradient.div_(LossScale(optimizer)));
        return optimizer.Step();
    }

    /// <summary>
    /// The dtype <paramref name="reduce"/> stands for under <paramref name="precision"/>:
    /// <see cref="AutocastReduce.Compute"/> is the precision's compute dtype (bfloat16 for FP8, whose
    /// gradients are stored in it), the others their own dtype.
    /// </summary>
    public static ScalarType ReduceDtypeOf(AutocastReduce reduce, Precision precision) => reduce switch
    {
        AutocastReduce.Compute => AutocastDtypes.ComputeDtype(precision),
        AutocastReduce.Float32 => ScalarType.Float32,
        AutocastReduce.BFloat16 => ScalarType.BFloat16,
        AutocastReduce.Float16 => ScalarType.Float16,
        _ => throw new ArgumentOutOfRangeException(nameof(reduce), reduce, "Not an AutocastReduce value."),
    };

    // The accumulators are unscaled after Backward; they are reduced loss-scaled, so that small gradients survive a
    // 16-bit reduce dtype (1 when scaling is off).
    private static double LossScale(MasterWeightOptimizer optimizer) => optimizer.Scaler.Enabled ? optimizer.Scaler.Scale : 1.0;

    // The optimizer's FP32 accumulators in ParameterNames order, as one flat tensor (the accumulator itself when there is one).
    private static Tensor ReadFlat(MasterWeightOptimizer optimizer) =>
        cat(optimizer.ParameterNames.Select(n => optimizer.GradientOf(n).flatten()).ToArray());

    private static void WriteFlat(MasterWeightOptimizer optimizer, Tensor flat)
    {
        using var _ = no_grad();
        long offset = 0;
        foreach (var name in optimizer.ParameterNames)
        {
            var target = optimizer.GradientOf(name);
            var n = target.numel();
            target.copy_(flat.narrow(0, offset, n).view(target.shape));
            offset += n;
        }
    }

    private static void RequireReduceDtype(ScalarType reduceDtype)
    {
        if (!AutocastDtypes.IsCastable(reduceDtype))
            throw new ArgumentOutOfRangeException(nameof(reduceDtype), $"The reduce dtype must be float32, bfloat16 or float16 (was {reduceDtype}).");
    }
}
