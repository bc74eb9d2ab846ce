using System.Collections.Generic;
using System.Linq;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PrecisionPolicy;

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
            .OrderBy(g => g.Key == ScalarType.Float32 ? 0 : 1)
            .ThenBy(g => (int)g.Key)
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

    private static Tensor Keep(Tensor t) => t.DetachFromDisposeScope();
}
