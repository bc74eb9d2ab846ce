using static TorchSharp.torch;

namespace PrecisionPolicy.Distributed;

/// <summary>
/// What a data-parallel communication backend (NCCL, Gloo, MPI, ...) implements so that
/// <see cref="DataParallel.Step"/> can reduce gradients across ranks. One call per step, on every
/// rank, with the same element count.
/// </summary>
public interface IGradientAllReduce
{
    /// <summary>Number of data-parallel ranks (1 for a single process).</summary>
    int WorldSize { get; }

    /// <summary>
    /// Replaces <paramref name="gradient"/> (this rank's flat float32 gradient, already divided by
    /// <see cref="WorldSize"/>) with the sum over all ranks, sent and summed in
    /// <paramref name="reduceDtype"/> (the result is written back as float32).
    /// </summary>
    void AllReduceSum(Tensor gradient, ScalarType reduceDtype);
}
