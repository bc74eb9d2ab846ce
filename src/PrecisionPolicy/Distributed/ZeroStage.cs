namespace PrecisionPolicy.Distributed;

/// <summary>
/// What ZeRO (Rajbhandari et al. 2020, "ZeRO: Memory Optimizations Toward Training Trillion
/// Parameter Models") partitions across data-parallel ranks; each stage includes the ones before.
/// </summary>
public enum ZeroStage
{
    /// <summary>Plain data parallelism: every rank holds everything.</summary>
    None = 0,

    /// <summary>P_os: optimizer state, including the FP32 masters, is partitioned.</summary>
    OptimizerStates = 1,

    /// <summary>P_os+g: gradients are reduce-scattered and partitioned too.</summary>
    Gradients = 2,

    /// <summary>P_os+g+p: the 16-bit parameters too, all-gathered per layer when needed.</summary>
    Parameters = 3,
}

/// <summary>What a <see cref="ZeroStage"/> partitions: one rule for the data-parallel runtime and the memory plans.</summary>
internal static class ZeroStages
{
    /// <summary>
    /// True when <paramref name="stage"/> partitions the bytes that <paramref name="firstStage"/> is the first stage to
    /// partition (each stage includes the ones before it).
    /// </summary>
    public static bool Partitions(this ZeroStage stage, ZeroStage firstStage) => stage != ZeroStage.None && firstStage <= stage;
}
