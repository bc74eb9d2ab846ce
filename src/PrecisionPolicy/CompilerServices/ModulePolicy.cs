using System;
using System.Collections.Concurrent;
using System.ComponentModel;
using System.Linq;
using System.Runtime.CompilerServices;
using PrecisionPolicy.Casting;
using PrecisionPolicy.Catalog;
using PrecisionPolicy.Native;
using PrecisionPolicy.Optimization;
using PrecisionPolicy.Policy;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.CompilerServices;

/// <summary>
/// What generated <c>ApplyPrecisionPolicy()</c> calls: puts every parameter in its storage dtype
/// and registers module-boundary forward pre-hooks, so calls the interceptors cannot see (a
/// <c>Sequential</c>'s children, delegates, code inside TorchSharp) still get inputs in the dtype
/// of the module's weights; the outermost policy module hands floating outputs back in float32
/// unless its plan says otherwise (<see cref="AutocastOutput"/>).
/// </summary>
/// <remarks>
/// Storage: leaf modules of low-precision members are converted to the compute dtype; members
/// marked [HighPrecision] (or whose class is), norm layers (with their statistics), softmax and loss
/// modules stay float32, and so do Embedding and EmbeddingBag tables unless the plan asks for
/// low-precision embeddings; a child that has its own generated policy applies that policy. Parameters
/// registered directly on a module that also has children are left as they are (interceptors still
/// cast them per op), except in the policy-aware composites of <c>PrecisionPolicy.Modules</c>, which are
/// stored as one unit and cast their own operands. A parameter shared by several modules (a head tied to the
/// embedding, a module registered twice) stays one tensor: the modules that share it get one storage dtype,
/// float32 when any of them is float32 or they disagree, otherwise their common dtype (see <see cref="StoragePlan"/>).
/// Each tensor is converted at most once (never FP32 → BF16 → FP32), float64 and
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
        // 16-bit steps allocate more short-lived tensors than FP32 ones: keep their memory in the process.
        if (plan.ComputeDtype != ScalarType.Float32) MallocThresholds.EnsureSet();
        // The outermost application decides every storage dtype first (nested policies included), then converts
        // once: parameters shared by several modules keep one tensor (StoragePlan).
        var outermost = storage is null;
        storage ??= new StoragePlan(root);
        try
        {
            Fp8Companion.AttachIfFp8(root, plan);
            foreach (var (name, child) in root.named_children())
            {
                var forced = plan.IsHighPrecision(name);
                Visit(child, forced ? ScalarType.Float32 : plan.ComputeDtype, forced, plan.LowPrecisionEmbeddings);
            }
            if (outermost) storage.Commit(Convert, RegisterLeafHooks);
        }
        finally
        {
            if (outermost) storage = null;
        }
        PolicyOutputs.Register(root, plan);
        AppliedPrecision.AddOrUpdate(root, new StrongBox<Precision>(plan.EffectivePrecision));
    }

    // The storage decisions of the application running on this thread (null outside one).
    [ThreadStatic] private static StoragePlan? storage;

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

    private static void Visit(nn.Module module, ScalarType dtype, bool forceFloat32, bool lowPrecisionEmbeddings)
    {
        if (!forceFloat32 && Attribute.IsDefined(module.GetType(), typeof(HighPrecisionAttribute), inherit: false))
        {
            forceFloat32 = true;
            dtype = ScalarType.Float32;
        }
        if (!forceFloat32 && module is IPrecisionPolicyModule nested)
        {
            Apply(module, nested.PrecisionPlan); // nested modules keep their own policy
            PolicyOutputs.MarkNested(module);    // and hand their compute dtype to the parent
            return;
        }

        // Embedding tables stay FP32 as under PyTorch autocast (the residual stream starts FP32) unless the
        // plan stores them in the compute dtype to save memory.
        var float32 = forceFloat32 || (IsEmbedding(module) ? !lowPrecisionEmbeddings : IsFloat32Module(module));
        var own = float32 ? ScalarType.Float32 : dtype;
        if (module is ISelfCastingModule)
        {
            storage!.Decide(module, own, unit: true); // one unit, children included; it casts its own operands
            return;
        }
        var children = module.named_children().ToList();
        if (children.Count == 0)
        {
            storage!.Decide(module, own, unit: false);
            return;
        }
        foreach (var (_, child) in children) Visit(child, own, forceFloat32, lowPrecisionEmbeddings);
    }

    // A leaf module in its final storage dtype: the boundary hook, and for a 16-bit Linear/Conv the GEMM-mode pair.
    private static void RegisterLeafHooks(nn.Module module, ScalarType own)
    {
        if (own == ScalarType.Float32 || module.parameters(recurse: false).Any())
            RegisterBoundaryHook(module, own);
        // Calls no interceptor sees (a Sequential's, a compiled library's) follow the GEMM mode too.
        if (own != ScalarType.Float32 && module is nn.Module<Tensor, Tensor> gemm) GemmModeHooks.Ensure(gemm);
    }

    private static bool IsEmbedding(nn.Module module) => module is TorchSharp.Modules.Embedding or TorchSharp.Modules.EmbeddingBag;

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

    /// <summary>
    /// The dtype the boundary hook of <paramref name="module"/> casts its floating inputs to (the
    /// module's storage dtype), or null when no hook was registered on it. <c>forward(...)</c> runs no
    /// hooks: interceptors of such calls cast by this instead (<see cref="PolicyCasts.ForwardInput"/>).
    /// </summary>
    public static ScalarType? BoundaryDtype(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return Hooks.TryGetValue(module, out var state) ? state.Dtype : null;
    }

    private static void RegisterBoundaryHook(nn.Module module, ScalarType dtype)
    {
        if (Hooks.TryGetValue(module, out var existing))
        {
            existing.Dtype = dtype;
            return;
        }
        var state = new HookState { Dtype = dtype };
        // Every arity and tuple shape (RNN hidden states, attention masks); modules with no tensor input: none.
        if (!BoundaryHooks.CastInputs(module, () => state.Dtype)) return;
        Hooks.Add(module, state);
    }
}
