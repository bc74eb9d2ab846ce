using System.Linq;
using System.Reflection;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PrecisionPolicy.Optimization;

/// <summary>
/// Bytes of an optimizer's state tensors. TorchSharp's state classes (Adam.State, SGD.State, ...)
/// expose their tensors as public fields with no common accessor, so a report reads them by
/// reflection; this runs once per report, never per step.
/// </summary>
internal static class OptimizerStateBytes
{
    public static long Of(OptimizerHelper optimizer)
    {
        long bytes = 0;
        foreach (var state in optimizer.state_dict().State)
        {
            var tensors = state.GetType()
                .GetFields(BindingFlags.Public | BindingFlags.Instance)
                .Where(f => f.FieldType == typeof(Tensor))
                .Select(f => f.GetValue(state) as Tensor)
                .Where(t => t is not null && !t.IsInvalid);
            bytes += tensors.Sum(t => t!.numel() * t.element_size());
        }
        return bytes;
    }
}
