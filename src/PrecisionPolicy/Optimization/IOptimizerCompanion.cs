using System.IO;

namespace PrecisionPolicy;

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

    /// <summary>Restores the state <see cref="Save"/> wrote.</summary>
    void Load(BinaryReader reader);
}
