using System.Collections.Generic;
using System.Globalization;
using static TorchSharp.torch;

namespace PrecisionPolicy.Optimization;

/// <summary>
/// Loading a checkpoint into other working dtypes (<see cref="Load(string)"/>): what is checked on the
/// staged masters before anything changes.
/// </summary>
public sealed partial class MasterWeightOptimizer
{
    private const double Float16Max = 65504;

    /// <summary>
    /// FP16 working weights are rounded from the masters: a master beyond FP16's largest value (a BF16 run
    /// can hold one, BF16 has FP32's range) would become inf in every forward. One problem per such parameter.
    /// </summary>
    private List<string> WorkingDtypeProblems(Tensor stagedMasters)
    {
        using var scope = NewDisposeScope();
        var problems = new List<string>();
        var origin = masters.storage_offset();
        foreach (var slot in slots)
        {
            if (slot.Working.dtype != ScalarType.Float16) continue;
            var staged = stagedMasters.narrow(0, slot.Master.storage_offset() - origin, slot.Master.numel());
            var largest = HostReads.Scalar<float>(staged.abs().max());
            if (!(largest <= Float16Max))
                problems.Add(
                    $"parameter '{slot.Name}' has master values up to {largest.ToString("G4", CultureInfo.InvariantCulture)} in magnitude, beyond FP16's " +
                    "largest value 65504: its FP16 working weights would be inf. Resume it in BF16 or FP32, or keep it in FP32 with [HighPrecision]");
        }
        return problems;
    }
}
