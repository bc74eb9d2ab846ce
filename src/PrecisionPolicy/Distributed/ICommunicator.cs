using System.Collections.Generic;
using static TorchSharp.torch;

namespace PrecisionPolicy.Distributed;

/// <summary>
/// The collectives data-parallel training needs from a communication engine, on tensor memory. The
/// core package defines it and takes no engine dependency; <c>PrecisionPolicy.Mpi</c> implements it
/// on MPI. Every rank calls every collective in the same order with the same element counts.
/// <para>
/// The gradient collectives take float32 tensors and send them as <c>reduceDtype</c> elements (4 bytes
/// for float32, 2 for bfloat16 and float16); a 16-bit sum adds two elements in float32 and rounds the
/// result once to the reduce dtype, as NCCL's 16-bit reduction does. A rank's part of a buffer of
/// <c>n</c> elements is <see cref="Partition"/>'s: the parts of <c>torch.tensor_split(n, WorldSize)</c>.
/// </para>
/// </summary>
public interface ICommunicator : IGradientAllReduce
{
    /// <summary>This process's rank, 0 to <see cref="IGradientAllReduce.WorldSize"/> − 1.</summary>
    int Rank { get; }

    /// <summary>
    /// Sums <paramref name="input"/> (float32, this rank's whole contribution) over all ranks, sent and
    /// summed in <paramref name="reduceDtype"/>, and writes this rank's part of the sum into
    /// <paramref name="output"/> (float32, <see cref="Partition"/>'s length for this rank).
    /// </summary>
    void ReduceScatterSum(Tensor input, Tensor output, ScalarType reduceDtype);

    /// <summary>
    /// Writes every rank's <paramref name="part"/> into <paramref name="output"/> in rank order (parts as
    /// <see cref="Partition"/> cuts <paramref name="output"/>); both of one dtype, sent as it.
    /// </summary>
    void AllGather(Tensor part, Tensor output);

    /// <summary>Copies <paramref name="buffer"/> of rank <paramref name="root"/> into the same buffer on every rank.</summary>
    void Broadcast(Tensor buffer, int root);

    /// <summary>Every rank's <paramref name="values"/> (the same length on every rank), in rank order.</summary>
    double[][] AllGather(double[] values);

    /// <summary>Every rank's <paramref name="bytes"/> (any length), in rank order: for checks at creation, not per step.</summary>
    byte[][] AllGatherBytes(byte[] bytes);

    /// <summary>True on every rank when <paramref name="flag"/> is true on any rank (an all-reduce of the flag).</summary>
    bool Any(bool flag);

    /// <summary>Bytes this rank has handed to the engine as send buffers of collectives, since creation.</summary>
    long BytesSent { get; }

    /// <summary>(start, length) of each rank's part of a buffer of <paramref name="elements"/> elements.</summary>
    IReadOnlyList<(long Start, long Length)> Partition(long elements) => Partitions.Of(elements, WorldSize);
}
