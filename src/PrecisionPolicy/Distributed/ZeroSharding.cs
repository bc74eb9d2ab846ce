using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PrecisionPolicy.Distributed;

/// <summary>
/// ZeRO stage 1 and 2 for a <see cref="MasterWeightOptimizer"/> (<see cref="DataParallelOptions.Stage"/>): each
/// dtype group of the flat buffers is cut into one part per rank (<see cref="Partitions"/>); a rank holds the
/// FP32 masters and the inner optimizer's state of its parts only. A step reduce-scatters the gradients in the
/// reduce dtype (each rank receives the sum of its parts), the rank steps its parts, casts them into its part
/// of the 16-bit working weights, and every group's working weights are all-gathered, so every rank runs the
/// next forward on the same weights.
/// <para>
/// Stage 1 reduces the accumulated gradient once per step. Stage 2 reduce-scatters each micro-batch's gradient
/// as its backward ends and adds it into the shard (DeepSpeed's stage 2 and FSDP's <c>SHARD_GRAD_OP</c> reduce
/// during backward), so the reduced gradient is never whole; with one micro-batch per step the two are the same
/// computation, bit for bit.
/// </para>
/// </summary>
internal sealed class ZeroSharding : IDisposable
{
    private readonly ICommunicator communicator;
    private readonly ScalarType reduceDtype;
    private readonly GroupShard[] shards;
    private readonly Tensor gradients; // this rank's parts of the reduced gradient, group after group
    private readonly DtypeGroup[] views; // the parts as groups, for ChunkedUpdate's write-backs
    private readonly Tensor masters;

    public ZeroSharding(ICommunicator communicator, ZeroStage stage, ScalarType reduceDtype, Tensor masters, GroupShard[] shards, Device device)
    {
        this.communicator = communicator;
        this.reduceDtype = reduceDtype;
        this.masters = masters;
        this.shards = shards;
        Stage = stage;
        gradients = zeros(shards.Sum(s => s.Part.Length), ScalarType.Float32, device).DetachFromDisposeScope();
        views = shards.Select(s => new DtypeGroup(s.Group.Dtype,
            s.Group.Working.narrow(0, s.Part.Start, s.Part.Length).DetachFromDisposeScope(),
            s.Group.WorkingGrad.narrow(0, s.Part.Start, s.Part.Length).DetachFromDisposeScope(),
            masters.narrow(0, s.MasterStart, s.Part.Length).DetachFromDisposeScope(),
            gradients.narrow(0, s.GradStart, s.Part.Length).DetachFromDisposeScope(),
            s.MasterStart)).ToArray();
    }

    /// <summary>Stage 1 or 2.</summary>
    public ZeroStage Stage { get; }

    /// <summary>The communicator.</summary>
    public ICommunicator Communicator => communicator;

    /// <summary>This rank's parts of the reduced (FP32) gradient: what it unscales, checks, clips and steps.</summary>
    public Tensor Gradients => gradients;

    /// <summary>Elements this rank steps: the FP32 masters and optimizer state it holds.</summary>
    public long Elements => gradients.numel();

    /// <summary>The working buffer of every group, which rank 0 broadcasts at creation (the masters follow from them).</summary>
    public IEnumerable<Tensor> Replicas => shards.Select(s => s.Group.Working);

    /// <summary>Sets the masters of this rank's 16-bit parts from the working weights (exact: FP32 holds every 16-bit value).</summary>
    public void MastersFromWorking()
    {
        using var _ = no_grad();
        foreach (var v in views)
            if (v.IsLowPrecision) v.Master.copy_(v.Working);
    }

    /// <summary>
    /// The inner optimizer's parameters: each part cut into <see cref="FlatChunks"/>, over the compact
    /// masters, with gradient views of <see cref="Gradients"/>; Start and Length in master coordinates.
    /// </summary>
    public (Parameter Parameter, Tensor Grad, long Start, long Length)[] ChunkParameters(Func<Parameter, Tensor, Parameter> detached) =>
        shards.SelectMany(s => FlatChunks.Of(s.Part.Length).Select(c =>
        {
            var grad = gradients.narrow(0, s.GradStart + c.Start, c.Length).DetachFromDisposeScope();
            var parameter = new Parameter(masters.narrow(0, s.MasterStart + c.Start, c.Length), requires_grad: true);
            return (detached(parameter, grad), grad, s.MasterStart + c.Start, c.Length);
        })).ToArray();

    /// <summary>Lengths of the chunks <see cref="ChunkParameters"/> makes, in order (for staging a checkpoint's optimizer state).</summary>
    public IEnumerable<long> ChunkLengths() => shards.SelectMany(s => FlatChunks.Of(s.Part.Length).Select(c => c.Length));

    /// <summary>The parts as dtype groups over the compact masters: <see cref="ChunkedUpdate"/> writes 16-bit parts back through them.</summary>
    public IReadOnlyList<DtypeGroup> PartGroups => views;

    /// <summary>
    /// Adds the sum over ranks of <paramref name="accumulators"/> / N (every group, sent in the reduce dtype)
    /// into this rank's parts of <see cref="Gradients"/>. The division happens in place in the accumulators.
    /// </summary>
    public void ReduceScatter(Tensor accumulators, bool accumulate)
    {
        var ranks = communicator.WorldSize;
        if (ranks > 1)
        {
            using var divisor = ((double)ranks).ToScalar();
            accumulators.div_(divisor);
        }
        using var scope = NewDisposeScope();
        foreach (var (s, v) in shards.Zip(views))
        {
            if (!accumulate)
            {
                communicator.ReduceScatterSum(s.Group.MasterGrad, v.MasterGrad, reduceDtype);
                continue;
            }
            var part = empty(s.Part.Length, ScalarType.Float32, gradients.device);
            communicator.ReduceScatterSum(s.Group.MasterGrad, part, reduceDtype);
            v.MasterGrad.add_(part);
        }
    }

    /// <summary>Every group's working weights from the ranks' parts (this rank's part already written back).</summary>
    public void GatherWorking()
    {
        if (communicator.WorldSize == 1) return;
        foreach (var (s, v) in shards.Zip(views))
            communicator.AllGather(v.Working, s.Group.Working);
    }

    /// <summary>Working weights from the masters: this rank's 16-bit parts cast, then every group gathered.</summary>
    public void WorkingFromMasters()
    {
        using (no_grad())
            foreach (var v in views)
                if (v.IsLowPrecision) v.Working.copy_(v.Master);
        GatherWorking();
    }

    /// <summary>
    /// Every FP32 master, on every rank (a collective): each 16-bit group's parts gathered, the FP32 group
    /// as it is; per parameter in <paramref name="slots"/>' order, flattened and concatenated.
    /// </summary>
    public Tensor GatherMasters(IReadOnlyList<MasterSlot> slots)
    {
        using var scope = NewDisposeScope();
        var whole = new Dictionary<ScalarType, Tensor>();
        foreach (var (s, v) in shards.Zip(views))
        {
            var full = empty(s.Group.Working.numel(), ScalarType.Float32, gradients.device);
            if (v.IsLowPrecision) communicator.AllGather(v.Master, full);
            else full.copy_(s.Group.Master);
            whole[s.Group.Dtype] = full;
        }
        var pieces = new List<Tensor>();
        var offsets = new Dictionary<ScalarType, long>();
        foreach (var slot in slots)
        {
            var dtype = slot.Working.dtype;
            var offset = offsets.GetValueOrDefault(dtype);
            pieces.Add(whole[dtype].narrow(0, offset, slot.Working.numel()));
            offsets[dtype] = offset + slot.Working.numel();
        }
        return cat(pieces.ToArray()).MoveToOuterDisposeScope();
    }

    /// <summary>True on every rank when <paramref name="failed"/> is true on any rank.</summary>
    public bool AnyFailed(bool failed) => communicator.Any(failed);

    public void Dispose()
    {
        foreach (var v in views)
        {
            v.Working.Dispose();
            v.WorkingGrad.Dispose();
            v.Master.Dispose();
            v.MasterGrad.Dispose();
        }
        gradients.Dispose();
    }
}
