using System;
using System.IO;

namespace PrecisionPolicy.Optimization;

/// <summary>
/// State that lives beside a <see cref="MasterWeightOptimizer"/> and must follow its steps and its
/// checkpoints, such as FP8 amax histories and scales.
/// </summary>
public interface IOptimizerCompanion
{
    /// <summary>A stable name: checkpoints match saved sections to companions by it.</summary>
    string Name { get; }

    /// <summary>Called once after every step, applied or skipped.</summary>
    void OnStepEnd(StepOutcome outcome);

    /// <summary>Writes the companion's state into a checkpoint.</summary>
    void Save(BinaryWriter writer);

    /// <summary>
    /// Reads and validates the state <see cref="Save"/> wrote without changing this companion, and
    /// returns the action that applies it. A checkpoint is applied only after every part of it has
    /// been read and validated, so this throws (<see cref="InvalidDataException"/>) on data it could
    /// not apply, and the returned action must not fail.
    /// </summary>
    Action Stage(BinaryReader reader);
}
