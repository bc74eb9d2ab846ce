using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy.Distributed;
using PrecisionPolicy.Reports;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PrecisionPolicy.Optimization;

/// <summary>
/// One dtype group's shard under ZeRO: the part of the group this rank steps (<see cref="Partitions"/>'s
/// part of the group's elements), where its masters sit in the compact master buffer and where its reduced
/// gradient sits in the shard's gradient buffer.
/// </summary>
/// <param name="Group">The whole group: full working buffer and full FP32 accumulator.</param>
/// <param name="Part">This rank's part of the group, in group coordinates.</param>
/// <param name="MasterStart">Where the part's FP32 masters start in the compact master buffer.</param>
/// <param name="GradStart">Where the part's reduced gradient starts in the shard's gradient buffer.</param>
internal sealed record GroupShard(DtypeGroup Group, (long Start, long Length) Part, long MasterStart, long GradStart);

/// <summary>
/// The buffers of a <see cref="MasterWeightOptimizer"/> under ZeRO stage 1 or 2. Each dtype group is cut into
/// one part per rank; a rank holds FP32 masters (and the inner optimizer holds state) for its parts only.
/// The compact master buffer is the FP32 group whole (its working weights are its masters, as in the
/// unsharded layout: the FP32 policy keeps full FP32 weights and shards the optimizer state) followed by this
/// rank's part of each 16-bit group. The FP32 gradient accumulators stay whole (backward writes every
/// gradient); the reduced gradient is this rank's parts only.
/// </summary>
internal static class ShardedBuffers
{
    /// <summary>
    /// Lays out the buffers as <see cref="FlatBuffers.Build"/> does (groups by working dtype, FP32 first,
    /// parameters re-pointed into their group's working buffer), with masters only for this rank's parts.
    /// A 16-bit parameter's slot master is the flat part of it that lies in this rank's shard (possibly empty).
    /// </summary>
    public static (Tensor Masters, Tensor MasterGrads, DtypeGroup[] Groups, MasterSlot[] Slots, GroupShard[] Shards) Build(
        IReadOnlyList<(string Name, Parameter Parameter)> parameters, Device device, int ranks, int rank)
    {
        var byDtype = parameters
            .Select((p, index) => (p.Name, p.Parameter, Index: index))
            .GroupBy(p => p.Parameter.dtype)
            .OrderBy(g => FlatBuffers.GroupRank(g.Key))
            .ToArray();
        var sizes = byDtype.Select(g => g.Sum(p => p.Parameter.numel())).ToArray();
        var parts = sizes.Select(n => Partitions.Of(n, ranks)[rank]).ToArray();
        var fp32Elements = byDtype.Length > 0 && byDtype[0].Key == ScalarType.Float32 ? sizes[0] : 0;
        var compact = fp32Elements + byDtype.Select((g, i) => g.Key == ScalarType.Float32 ? 0 : parts[i].Length).Sum();
        var masters = Keep(zeros(compact, ScalarType.Float32, device));
        var masterGrads = Keep(zeros(sizes.Sum(), ScalarType.Float32, device));

        var groups = new List<DtypeGroup>();
        var shards = new List<GroupShard>();
        var slots = new MasterSlot[parameters.Count];
        long groupStart = 0, masterCursor = fp32Elements, gradCursor = 0;
        using var _ = no_grad();
        for (var gi = 0; gi < byDtype.Length; gi++)
        {
            var (dtype, groupSize, part) = (byDtype[gi].Key, sizes[gi], parts[gi]);
            var fp32 = dtype == ScalarType.Float32;
            var masterStart = fp32 ? part.Start : masterCursor;
            var master = fp32 ? Keep(masters.narrow(0, 0, groupSize)) : Keep(masters.narrow(0, masterStart, part.Length));
            var masterGrad = Keep(masterGrads.narrow(0, groupStart, groupSize));
            var working = fp32 ? Keep(master.alias()) : Keep(zeros(groupSize, dtype, device));
            var workingGrad = fp32 ? Keep(masterGrad.alias()) : Keep(zeros(groupSize, dtype, device));

            long offset = 0;
            foreach (var (name, p, index) in byDtype[gi])
            {
                var n = p.numel();
                var shape = p.shape;
                var workingView = Keep(working.narrow(0, offset, n).view(shape));
                workingView.copy_(p);
                p.set_(workingView);
                Tensor masterView;
                if (fp32)
                {
                    masterView = Keep(master.narrow(0, offset, n).view(shape));
                }
                else
                {
                    // The part of this parameter inside the shard: [from, to) in group coordinates.
                    var end = part.Start + part.Length;
                    var from = Math.Clamp(offset, part.Start, end);
                    var to = Math.Clamp(offset + n, part.Start, end);
                    masterView = Keep(master.narrow(0, from - part.Start, to - from));
                    if (to > from)
                    {
                        using var flat = workingView.flatten();
                        using var inShard = flat.narrow(0, from - offset, to - from);
                        masterView.copy_(inShard);
                    }
                }
                var workingGradView = Keep(workingGrad.narrow(0, offset, n).view(shape));
                var masterGradView = Keep(masterGrad.narrow(0, offset, n).view(shape));
                slots[index] = new MasterSlot(name, p, masterView, masterGradView, workingGradView);
                offset += n;
            }
            var group = new DtypeGroup(dtype, working, workingGrad, master, masterGrad, groupStart);
            groups.Add(group);
            shards.Add(new GroupShard(group, part, masterStart, gradCursor));
            groupStart += groupSize;
            gradCursor += part.Length;
            if (!fp32) masterCursor += part.Length;
        }
        return (masters, masterGrads, groups.ToArray(), slots, shards.ToArray());
    }

    private static Tensor Keep(Tensor t) => t.DetachFromDisposeScope();
}
