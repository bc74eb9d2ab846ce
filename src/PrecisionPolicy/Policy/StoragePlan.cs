using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System;
using PrecisionPolicy.Casting;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Policy;

/// <summary>
/// The storage dtypes one <c>ApplyPrecisionPolicy()</c> gives its modules, decided before anything is converted so
/// that a parameter shared by several modules stays one tensor. TorchSharp converts a module by giving it new
/// parameters (<c>Module.to</c>), so a head tied to its embedding (<c>head.weight = embedding.weight</c>) would end
/// up with its own copy in another dtype, trained apart from the embedding. Here:
/// <list type="number">
/// <item>Before any conversion, the parameters of every module in the tree are grouped by the tensor they are
/// (its data, dtype, shape and strides): TorchSharp hands out a new wrapper for the same tensor on each read
/// of a native module's parameter, so wrappers are not compared.</item>
/// <item>Modules that share a parameter get one storage dtype: float32 when any of them is float32 or their
/// dtypes differ, otherwise the common one. A tied head of an FP32 embedding is therefore stored and computed in
/// FP32 (with <c>LowPrecisionEmbeddings</c> both are in the compute dtype). A parameter of a module the policy does
/// not convert (registered on a module with children) keeps its dtype, and so do the modules sharing it.</item>
/// <item>Each module is converted once, then every owner of a shared parameter is handed the same
/// <see cref="Parameter"/> object, so <c>named_parameters()</c>, the manifest and the optimizer list it once.</item>
/// </list>
/// </summary>
internal sealed class StoragePlan
{
    private sealed class Decision(nn.Module module, ScalarType dtype, bool unit)
    {
        public nn.Module Module { get; } = module;
        public ScalarType Dtype { get; set; } = dtype;
        public bool Unit { get; } = unit;
    }

    private readonly List<Decision> decisions = new();
    private readonly Dictionary<nn.Module, Decision> byModule = new(ReferenceEqualityComparer.Instance);
    private readonly List<(nn.Module Owner, string Name)[]> shared;

    /// <summary>Records which parameters of <paramref name="root"/>'s tree are one tensor, before any conversion.</summary>
    public StoragePlan(nn.Module root)
    {
        var groups = new Dictionary<TensorIdentity, List<(nn.Module, string)>>();
        var seen = new HashSet<nn.Module>(ReferenceEqualityComparer.Instance);
        foreach (var module in new[] { root }.Concat(root.modules()))
        {
            if (!seen.Add(module)) continue;
            foreach (var (name, parameter) in module.named_parameters(recurse: false))
            {
                if (TensorIdentity.Of(parameter) is not { } identity) continue;
                if (!groups.TryGetValue(identity, out var owners)) groups[identity] = owners = new();
                owners.Add((module, name));
            }
        }
        shared = groups.Values.Where(g => g.Count > 1).Select(g => g.ToArray()).ToList();
    }

    /// <summary>
    /// <paramref name="module"/> is to be stored in <paramref name="dtype"/>: a leaf, or with <paramref name="unit"/> a
    /// module converted with its children. A module reached twice keeps one dtype (the rule above).
    /// </summary>
    public void Decide(nn.Module module, ScalarType dtype, bool unit)
    {
        if (byModule.TryGetValue(module, out var existing))
        {
            existing.Dtype = Merge(existing.Dtype, dtype);
            return;
        }
        var decision = new Decision(module, dtype, unit);
        decisions.Add(decision);
        byModule[module] = decision;
        if (unit)
            foreach (var descendant in module.modules()) byModule.TryAdd(descendant, decision);
    }

    /// <summary>
    /// Merges the dtypes of modules that share parameters, puts each shared parameter in its dtype once and hands it
    /// to all its owners, then converts each module (the shared parameters are in its dtype already, so they stay).
    /// </summary>
    public void Commit(Action<nn.Module, ScalarType> convert, Action<nn.Module, ScalarType> leafDone)
    {
        MergeShared();
        foreach (var group in shared) Tie(group);
        foreach (var d in decisions) convert(d.Module, d.Dtype);
        foreach (var d in decisions.Where(d => !d.Unit)) leafDone(d.Module, d.Dtype);
    }

    private static ScalarType Merge(ScalarType a, ScalarType b) => a == b ? a : ScalarType.Float32;

    // A module may share parameters with several groups: repeat until no dtype changes (each change only widens).
    private void MergeShared()
    {
        for (var changed = true; changed;)
        {
            changed = false;
            foreach (var group in shared)
            {
                var owners = group.Select(slot => byModule.GetValueOrDefault(slot.Owner)).ToArray();
                // A parameter no decision converts keeps its dtype, and the modules sharing it follow.
                var fixedDtype = group.Zip(owners).Where(p => p.Second is null).Select(p => (ScalarType?)ParameterOf(p.First.Owner, p.First.Name)?.dtype).FirstOrDefault();
                var target = fixedDtype ?? owners.Select(o => o!.Dtype).Aggregate(Merge);
                foreach (var owner in owners)
                {
                    if (owner is null || owner.Dtype == target || !AutocastDtypes.IsCastable(target)) continue;
                    owner.Dtype = target;
                    changed = true;
                }
            }
        }
    }

    // The shared parameter in the owners' merged dtype (converted once when it is not), handed to every owner.
    private void Tie((nn.Module Owner, string Name)[] group)
    {
        var first = ParameterOf(group[0].Owner, group[0].Name)!;
        var target = byModule.GetValueOrDefault(group[0].Owner)?.Dtype ?? first.dtype;
        var canonical = first.dtype == target || !AutocastDtypes.IsCastable(first.dtype) ? first : Converted(first, target);
        var replaced = new List<Parameter>();
        foreach (var (owner, name) in group)
        {
            var current = ParameterOf(owner, name);
            if (ReferenceEquals(current, canonical)) continue;
            if (current is not null && !replaced.Any(r => ReferenceEquals(r, current))) replaced.Add(current);
            Assign(owner, name, canonical, current);
            if (!ReferenceEquals(ParameterOf(owner, name), canonical))
                throw new InvalidOperationException(
                    $"Parameter '{name}' of {Describe(owner)} is shared with '{group[0].Name}' of {Describe(group[0].Owner)}, and the policy could not " +
                    "hand it the one shared tensor. Give the module a settable property or a Parameter field of that name.");
        }
        // Wrappers no owner holds any more; the tensor under them lives on in canonical when the dtype is unchanged.
        foreach (var old in replaced) old.Dispose();
    }

    private static Parameter Converted(Parameter parameter, ScalarType dtype)
    {
        using var noGrad = no_grad();
        using var data = parameter.to(dtype);
        var converted = new Parameter(data, parameter.requires_grad);
        converted.DetachFromDisposeScope();
        return converted;
    }

    // Without disposing what it replaces (several owners may hold the same wrapper object): the Parameter fields that
    // held the old wrapper and the registration, as TorchSharp's own conversion does for fields; a native module
    // (Embedding), whose parameter lives in native code, through its property, which sets the native one too.
    private static void Assign(nn.Module owner, string name, Parameter canonical, Parameter? current)
    {
        var fields = new List<FieldInfo>();
        for (var type = owner.GetType(); type is not null && type != typeof(nn.Module); type = type.BaseType)
            foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.DeclaredOnly))
                if (current is not null && field.FieldType.IsAssignableFrom(typeof(Parameter)) && ReferenceEquals(field.GetValue(owner), current))
                    fields.Add(field);
        if (fields.Count == 0
            && owner.GetType().GetProperty(name, BindingFlags.Public | BindingFlags.Instance) is { CanWrite: true } property
            && property.PropertyType.IsAssignableFrom(typeof(Parameter)))
        {
            property.SetValue(owner, canonical);
            return;
        }
        foreach (var field in fields) field.SetValue(owner, canonical);
        ConditionallyRegister.Invoke(owner, [name, canonical]);
    }

    private static readonly MethodInfo ConditionallyRegister = typeof(nn.Module).GetMethod(
        "ConditionallyRegisterParameter", BindingFlags.NonPublic | BindingFlags.Instance, [typeof(string), typeof(Parameter)])!;

    private static Parameter? ParameterOf(nn.Module owner, string name) =>
        owner.named_parameters(recurse: false).FirstOrDefault(p => p.name == name).parameter;

    private static string Describe(nn.Module module) => $"'{module.GetName()}' ({module.GetType().Name})";
}
