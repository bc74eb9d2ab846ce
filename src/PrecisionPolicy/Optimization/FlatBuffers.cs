using System.Collections.Generic;
using System.Linq;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PrecisionPolicy.Optimization;

/// <summary>Packs parameters into the flat buffers of a <see cref="MasterWeightOptimizer"/>.</summary>
internal static class FlatBuffers
{
    /// <summary>
    /// Lays masters out grouped by working dtype (float32 first) and re-points every working
    /// parameter's storage into its group's buffer. Every tensor made here outlives the caller's
    /// dispose scope.
    /// </summary>
    public static (Tensor Masters, Tensor MasterGrads, DtypeGroup[] Groups, MasterSlot[] Slots) Build(
        IReadOnlyList<(string Name, Parameter Parameter)> parameters, Device device)
    {
        var byDtype = parameters
            .Select((p, index) => (p.Name, p.Parameter, Index: index))
            .GroupBy(p => p.Parameter.dtype)
            .OrderBy(g => GroupRank(g.Key))
            .ToArray();
        var total = parameters.Sum(p => p.Parameter.numel());
        var masters = Keep(zeros(total, ScalarType.Float32, device));
        var masterGrads = Keep(zeros(total, ScalarType.Float32, device));

        var groups = new List<DtypeGroup>();
        var slots = new MasterSlot[parameters.Count];
        long groupStart = 0;
        using var _ = no_grad();
        foreach (var group in byDtype)
        {
            var dtype = group.Key;
            var groupSize = group.Sum(p => p.Parameter.numel());
            var master = Keep(masters.narrow(0, groupStart, groupSize));
            var masterGrad = Keep(masterGrads.narrow(0, groupStart, groupSize));
            var working = dtype == ScalarType.Float32 ? Keep(master.alias()) : Keep(zeros(groupSize, dtype, device));
            var workingGrad = dtype == ScalarType.Float32 ? Keep(masterGrad.alias()) : Keep(zeros(groupSize, dtype, device));

            long offset = 0;
            foreach (var (name, p, index) in group)
            {
                var n = p.numel();
                var shape = p.shape;
                var masterView = Keep(master.narrow(0, offset, n).view(shape));
                var workingView = Keep(working.narrow(0, offset, n).view(shape));
                masterView.copy_(p);         // masters start as the exact FP32 value of the working weight
                workingView.copy_(p);
                p.set_(workingView);         // the module's parameter now lives in the group buffer
                var workingGradView = Keep(workingGrad.narrow(0, offset, n).view(shape));
                var masterGradView = Keep(masterGrad.narrow(0, offset, n).view(shape));
                slots[index] = new MasterSlot(name, p, masterView, masterGradView, workingGradView);
                offset += n;
            }
            groups.Add(new DtypeGroup(dtype, working, workingGrad, master, masterGrad, groupStart));
            groupStart += groupSize;
        }
        return (masters, masterGrads, groups.ToArray(), slots);
    }

    /// <summary>Where a working dtype's group goes in the flat buffers: float32 first, then by ScalarType code.</summary>
    public static int GroupRank(ScalarType dtype) => dtype == ScalarType.Float32 ? -1 : (int)dtype;

    /// <summary>The parameters' indices in the order <see cref="Build"/> lays their masters out for these working dtypes.</summary>
    public static int[] Order(IReadOnlyList<ScalarType> dtypes) =>
        Enumerable.Range(0, dtypes.Count).OrderBy(i => GroupRank(dtypes[i])).ToArray(); // stable: module order within a group

    private static Tensor Keep(Tensor t) => t.DetachFromDisposeScope();
}
