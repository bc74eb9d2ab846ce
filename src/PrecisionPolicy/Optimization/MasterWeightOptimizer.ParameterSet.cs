using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PrecisionPolicy.Optimization;

/// <summary>
/// The module's trainable parameters, compared at every Step, Save and Load (and state_dict,
/// load_state_dict) with the ones the optimizer
/// was built over. A child module replaced (and the policy applied again), a parameter registered,
/// unfrozen or frozen afterwards would otherwise go unnoticed: the new parameters never trained, their
/// gradients piling up, and checkpoints that leave them out.
/// </summary>
public sealed partial class MasterWeightOptimizer
{
    // Null when the optimizer was built over a list of parameters: there is no module to read again.
    private nn.Module? watchedModule;
    private (string Name, Parameter Parameter)[] watchedSet = [];
    private Dictionary<string, string> watchedDescriptions = new(StringComparer.Ordinal); // read now: a replaced module may be disposed later

    private void WatchParameterSet(nn.Module module)
    {
        watchedModule = module;
        watchedSet = Distinct(slots.Select(s => (s.Name, s.Working))).ToArray();
        watchedDescriptions = watchedSet.ToDictionary(p => p.Name, p => Describe(p.Parameter), StringComparer.Ordinal);
    }

    /// <summary>
    /// The signature is the sequence of (name, parameter object) of the trainable parameters, each
    /// object once (a tied parameter under its first name): a replaced module or a module moved with
    /// <c>to(dtype)</c> holds new parameter objects, so identity covers shape and dtype changes too.
    /// One walk of the module tree and one native read (requires_grad) per parameter, no device sync.
    /// </summary>
    private void ThrowIfParameterSetChanged(string operation)
    {
        if (watchedModule is null) return;
        var index = 0;
        foreach (var (name, parameter) in CurrentTrainable())
        {
            if (index >= watchedSet.Length || !ReferenceEquals(watchedSet[index].Parameter, parameter) || watchedSet[index].Name != name)
                throw ParameterSetChanged(operation);
            index++;
        }
        if (index != watchedSet.Length) throw ParameterSetChanged(operation);
    }

    private IEnumerable<(string Name, Parameter Parameter)> CurrentTrainable() =>
        Distinct(NamedParametersOf(watchedModule!).Where(p => p.Item2.requires_grad));

    private static IEnumerable<(string Name, Parameter Parameter)> Distinct(IEnumerable<(string Name, Parameter Parameter)> parameters)
    {
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        foreach (var p in parameters)
            if (seen.Add(p.Parameter)) yield return p;
    }

    private InvalidOperationException ParameterSetChanged(string operation)
    {
        var all = NamedParametersOf(watchedModule!).ToArray();
        var now = CurrentTrainable().ToArray();
        var nowByName = now.ToDictionary(p => p.Name, p => p.Parameter, StringComparer.Ordinal);
        var heldNames = new HashSet<string>(watchedSet.Select(s => s.Name), StringComparer.Ordinal);
        var changes = new List<string>();
        foreach (var (name, held) in watchedSet)
        {
            if (nowByName.TryGetValue(name, out var current))
            {
                if (!ReferenceEquals(current, held))
                    changes.Add($"'{name}' was replaced by another tensor ({watchedDescriptions[name]} before, {Describe(current)} now)");
            }
            else if (all.Any(p => p.Item1 == name))
            {
                changes.Add($"'{name}' was frozen (requires_grad is false now)");
            }
            else
            {
                changes.Add($"'{name}' ({watchedDescriptions[name]}) was removed");
            }
        }
        foreach (var (name, parameter) in now)
            if (!heldNames.Contains(name))
                changes.Add($"'{name}' ({Describe(parameter)}) was added");
        if (changes.Count == 0)
            changes.Add($"the parameters are registered in another order ({string.Join(", ", now.Select(p => p.Name))})");

        return new InvalidOperationException(
            $"{operation}() refused: the module's trainable parameters changed after this MasterWeightOptimizer was built: {string.Join("; ", changes)}. " +
            "The optimizer holds FP32 masters and state for the parameters it was built over only, so it would never train the new ones. " +
            "Build a new optimizer over the module (Dispose this one first); a checkpoint saved before the change loads into it where " +
            "the names, dtypes and shapes still match. Nothing was changed.");
    }

    private static string Describe(Tensor tensor) => $"{tensor.dtype}[{string.Join(",", tensor.shape)}]";
}
