using System;
using System.Collections.Concurrent;
using System.ComponentModel;
using System.Linq;
using System.Runtime.CompilerServices;
using PrecisionPolicy.Catalog;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.CompilerServices;

/// <summary>
/// What generated <c>ApplyPrecisionPolicy()</c> calls: puts every parameter in its storage dtype
/// and registers module-boundary forward pre-hooks, so calls the interceptors cannot see (a
/// <c>Sequential</c>'s children, delegates, code inside TorchSharp) still get inputs in the dtype
/// of the module's weights.
/// </summary>
/// <remarks>
/// Storage: leaf modules of low-precision members are converted to the compute dtype; members
/// marked [HighPrecision] (or whose class is), norm layers (with their statistics), softmax and loss
/// modules stay float32; a child that has its own generated policy applies that policy. Parameters
/// registered directly on a module that also has children are left as they are (interceptors still
/// cast them per op). Each tensor is converted at most once (never FP32 → BF16 → FP32), float64 and
/// integer tensors are never converted, and applying twice changes nothing.
/// For generated code; not for direct use: its members may change in any release.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ModulePolicy
{
    private sealed class HookState
    {
        public ScalarType Dtype;
    }

    private static readonly ConditionalWeakTable<nn.Module, HookState> Hooks = new();

    private static readonly ConditionalWeakTable<nn.Module, StrongBox<Precision>> AppliedPrecision = new();

    /// <summary>Applies <paramref name="plan"/> to <paramref name="root"/> (a module with that policy).</summary>
    /// <exception cref="InvalidOperationException">A <see cref="MasterWeightOptimizer"/> holds parameters this application could re-allocate.</exception>
    public static void Apply(nn.Module root, PrecisionPlan plan)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(plan);
        RefuseReallocatingHeldParameters(root, plan);
        // FP8: the module's forward (run through call) becomes the FP8 region Fp8Autocast.Operand needs.
        if (plan.EffectivePrecision == Precision.FP8) Fp8Context.Attach(root, plan.Fp8Recipe);
        foreach (var (name, child) in root.named_children())
        {
            var forced = plan.IsHighPrecision(name);
            Visit(child, forced ? ScalarType.Float32 : plan.ComputeDtype, forced);
        }
        AppliedPrecision.AddOrUpdate(root, new StrongBox<Precision>(plan.EffectivePrecision));
    }

    /// <summary>
    /// Converting a parameter's dtype re-allocates it (Module.to), and a master-weight optimizer that
    /// holds it would go on stepping the freed tensor. Applying the same precision again converts
    /// nothing and is allowed; anything else over held parameters is refused before any change.
    /// </summary>
    private static void RefuseReallocatingHeldParameters(nn.Module root, PrecisionPlan plan)
    {
        var (name, held) = root.named_parameters().FirstOrDefault(p => MasterWeightOptimizer.HolderOf(p.parameter) is not null);
        if (held is null) return;
        var precision = plan.EffectivePrecision;
        if (AppliedPrecision.TryGetValue(root, out var applied) && applied.Value == precision) return;
        var what = applied is null
            ? $"is applied after a MasterWeightOptimizer was created over its parameters (e.g. '{name}', {held.dtype})"
            : $"under {precision} would convert parameters applied under {applied.Value} that a MasterWeightOptimizer holds (e.g. '{name}', {held.dtype})";
        throw new InvalidOperationException(
            $"ApplyPrecisionPolicy() on '{plan.ModuleName}' {what}. Converting re-allocates them and the optimizer would step freed tensors. " +
            "Apply the policy (under the AutocastScope you train in) before creating the optimizer: dispose this optimizer, apply, then create a new one.");
    }

    /// <summary>The storage dtype a module of this type keeps whatever the region: float32 for norms, softmax and losses.</summary>
    public static bool IsFloat32Module(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return Float32ModuleTypes.GetOrAdd(module.GetType(), static type => ModuleRowOf(type)?.Category == CastCategory.ModuleFloat32);
    }

    // One catalogue lookup per run-time type (a walk up its base types), then cached.
    private static readonly ConcurrentDictionary<Type, bool> Float32ModuleTypes = new();

    private static ModuleRow? ModuleRowOf(Type type)
    {
        for (var t = type; t is not null && t != typeof(nn.Module); t = t.BaseType)
        {
            if (t.FullName is { } name && CastCatalog.FindModule(name) is { } row) return row;
        }
        return null;
    }

    private static void Visit(nn.Module module, ScalarType dtype, bool forceFloat32)
    {
        if (!forceFloat32 && Attribute.IsDefined(module.GetType(), typeof(HighPrecisionAttribute), inherit: false))
        {
            forceFloat32 = true;
            dtype = ScalarType.Float32;
        }
        if (!forceFloat32 && module is IPrecisionPolicyModule nested)
        {
            Apply(module, nested.PrecisionPlan); // nested modules keep their own policy
            return;
        }

        var own = forceFloat32 || IsFloat32Module(module) ? ScalarType.Float32 : dtype;
        var children = module.named_children().ToList();
        if (children.Count == 0)
        {
            Convert(module, own);
            if (own == ScalarType.Float32 || module.parameters(recurse: false).Any())
                RegisterBoundaryHook(module, own);
            return;
        }
        foreach (var (_, child) in children) Visit(child, own, forceFloat32);
    }

    private static void Convert(nn.Module module, ScalarType dtype)
    {
        var tensors = module.parameters(recurse: false).Cast<Tensor>().Concat(module.buffers(recurse: false)).ToList();
        if (tensors.Count == 0) return;
        // Only when every tensor is castable: Module.to(dtype) converts integer buffers too.
        if (!tensors.All(static t => AutocastDtypes.IsCastable(t.dtype))) return;
        if (tensors.All(t => t.dtype == dtype)) return;
        using var noGrad = torch.no_grad();
        module.to(dtype);
    }

    private static void RegisterBoundaryHook(nn.Module module, ScalarType dtype)
    {
        if (Hooks.TryGetValue(module, out var existing))
        {
            existing.Dtype = dtype;
            return;
        }
        var state = new HookState { Dtype = dtype };
        switch (module)
        {
            case nn.Module<Tensor, Tensor> unary:
                unary.register_forward_pre_hook((_, input) => PolicyCasts.Exact(input, state.Dtype));
                break;
            case nn.Module<Tensor, Tensor, Tensor> binary:
                binary.register_forward_pre_hook((_, a, b) => (PolicyCasts.Exact(a, state.Dtype), PolicyCasts.Exact(b, state.Dtype)));
                break;
            default:
                return; // other arities: interceptors only
        }
        Hooks.Add(module, state);
    }
}
