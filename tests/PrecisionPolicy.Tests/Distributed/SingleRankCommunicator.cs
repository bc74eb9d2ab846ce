using System.Collections.Generic;
using PrecisionPolicy.Distributed;
using static TorchSharp.torch;

namespace PrecisionPolicy.Tests.Distributed;

/// <summary>
/// A world of one rank in this process, for what needs a communicator but no MPI: every collective is a copy, and a
/// sum sent in a 16-bit reduce dtype is rounded to it, as one rank's contribution is on the wire.
/// </summary>
internal sealed class SingleRankCommunicator : ICommunicator
{
    public int Rank => 0;

    public int WorldSize => 1;

    public long BytesSent => 0;

    public void AllReduceSum(Tensor gradient, ScalarType reduceDtype)
    {
        using var sent = gradient.to(reduceDtype);
        gradient.copy_(sent);
    }

    public void ReduceScatterSum(Tensor input, Tensor output, ScalarType reduceDtype)
    {
        using var sent = input.to(reduceDtype);
        output.copy_(sent);
    }

    public void AllGather(Tensor part, Tensor output) => output.copy_(part);

    public void Broadcast(Tensor buffer, int root)
    {
    }

    public double[][] AllGather(double[] values) => [values];

    public byte[][] AllGatherBytes(byte[] bytes) => [bytes];

    public bool Any(bool flag) => flag;
}
