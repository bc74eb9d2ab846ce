using System;
using PrecisionPolicy.Optimization;
using static TorchSharp.torch;

namespace PrecisionPolicy.Distributed;

/// <summary>
/// Simulated data parallelism on one machine: a batch is split along dimension 0 into
/// <see cref="Ranks"/> equal micro-batches, each standing for one rank's local batch, and their
/// gradients are reduced as a ring all-reduce in the reduce dtype would reduce them
/// (<see cref="DataParallel.SimulatedStep"/>). Passing one to the generated
/// <c>TrainStep(optimizer, input, target, lossFunction, dataParallel)</c> turns the mode on; that
/// step reduces in the class's <c>[Autocast(ReduceDtype = ...)]</c>.
/// </summary>
public sealed record SimulatedDataParallel
{
    /// <summary>Creates the mode with <paramref name="ranks"/> simulated ranks (1 or more).</summary>
    public SimulatedDataParallel(int ranks)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ranks, 1);
        Ranks = ranks;
    }

    /// <summary>The number of simulated ranks: micro-batches per step.</summary>
    public int Ranks { get; }

    /// <summary>
    /// One step: <paramref name="input"/> and <paramref name="target"/> split into <see cref="Ranks"/>
    /// equal micro-batches, rank k's loss <paramref name="loss"/>(input_k, target_k), the gradients
    /// reduced in <paramref name="reduceDtype"/>, then the optimizer's step-or-skip.
    /// </summary>
    /// <exception cref="ArgumentException">The batch size is not a multiple of <see cref="Ranks"/>, or input and target disagree on it.</exception>
    public StepOutcome Step(MasterWeightOptimizer optimizer, Tensor input, Tensor target, Func<Tensor, Tensor, Tensor> loss, ScalarType reduceDtype)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(loss);
        var batch = input.dim() > 0 ? input.shape[0] : 0;
        if (batch == 0 || batch % Ranks != 0)
            throw new ArgumentException($"The batch size ({batch}) must be a positive multiple of the {Ranks} simulated ranks: every rank gets an equal micro-batch.", nameof(input));
        if (target.dim() == 0 || target.shape[0] != batch)
            throw new ArgumentException($"The target's batch size ({(target.dim() > 0 ? target.shape[0] : 0)}) must equal the input's ({batch}).", nameof(target));

        using var scope = NewDisposeScope();
        var inputs = input.chunk(Ranks);
        var targets = target.chunk(Ranks);
        return DataParallel.SimulatedStep(optimizer, Ranks, k => loss(inputs[k], targets[k]), reduceDtype);
    }
}
