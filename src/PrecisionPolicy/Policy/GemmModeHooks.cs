using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using PrecisionPolicy.Casting;
using PrecisionPolicy.CompilerServices;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;
using PostHook = System.Func<TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>, TorchSharp.torch.Tensor, TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>;
using PreHook = System.Func<TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>, TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>;

namespace PrecisionPolicy.Policy;

/// <summary>
/// The GEMM mode for Linear and Conv1d/2d/3d modules that run through <c>call(...)</c> without an interceptor: a
/// <c>Sequential</c>'s children, layers of compiled libraries (TorchVision), and intercepted calls of a module that
/// carries hooks of the user's. Under <see cref="GemmMode.Fp32Accumulate"/> the module's own <c>forward</c> would run
/// a native 16-bit GEMM or convolution (~10–120× slower than FP32 on CPUs without 16-bit kernels), so a pair of
/// hooks takes it over: the last pre-hook keeps the input and hands <c>forward</c> an empty batch (a zero-row slice,
/// which costs nothing), and the first forward hook returns what the interceptor would have computed from the kept
/// input (<see cref="PolicyCasts.Fp32AccumulateLinear"/>, <see cref="PolicyCasts.Fp32AccumulateConv"/>): operands
/// rounded to the compute dtype, FP32 accumulation, the result rounded. The numerics are the intercepted call's,
/// bit for bit. Under <see cref="GemmMode.Native"/>, or for an input without a batch dimension, the hooks change nothing.
/// </summary>
/// <remarks>
/// Hooks the user registers (before or after <c>ApplyPrecisionPolicy()</c>) run on every call and see what they
/// would see without the policy. Pre-hooks: the pair's pre-hook stays last (the forward hook restores its place, since
/// a table cannot be reordered while <c>call</c> enumerates it), so they see the real input; a pre-hook registered
/// since the module's last call makes that one call run natively while the order is restored. Forward hooks:
/// TorchSharp hands every forward hook the input as the last pre-hook left it, so the pair does not take over a call
/// of a module that carries a forward hook of the user's: that call runs the module's own <c>forward</c> on the real
/// input (its native 16-bit kernel, ~10–120× slower on CPUs without 16-bit kernels, with that kernel's numerics), and
/// the user's forward hooks see the real input and result. The kept input is per thread. The toolkit's own forward
/// hooks that add to the result (a LoRA adapter's branch) are followers (<see cref="GemmModeFollowers"/>): registered
/// after the pair's, they read the real input from it, and the pair takes the call over.
/// </remarks>
internal static class GemmModeHooks
{
    private sealed class Pair
    {
        public required PreHook Before;
        public required PostHook After;
    }

    private static readonly ConditionalWeakTable<nn.Module, Pair> Registered = new();

    // The input a pre-hook kept for the forward hook of the same call; per thread (one module may run on several).
    [ThreadStatic] private static Dictionary<nn.Module, Tensor>? kept;

    /// <summary>True for the module types whose call the pair can take over: Linear and non-transposed Conv1d/2d/3d.</summary>
    public static bool Applies(nn.Module module) => module is Linear || module is Convolution { transposed: false };

    /// <summary>Registers the pair on <paramref name="module"/> once (a Linear or non-transposed convolution).</summary>
    public static void Ensure(nn.Module<Tensor, Tensor> module)
    {
        if (!ModuleHookTables.Available || !Applies(module)) return;
        lock (Registered)
        {
            if (Registered.TryGetValue(module, out _)) return;
            var pair = new Pair { Before = Before, After = After };
            module.register_forward_pre_hook(pair.Before);
            module.register_forward_hook(pair.After);
            Registered.Add(module, pair);
        }
    }

    /// <summary>
    /// True when hooks other than the toolkit's (its input cast and this pair) are registered on
    /// <paramref name="module"/>: its calls must then go through <c>call(...)</c> for them to run.
    /// </summary>
    public static bool HasUserHooks(nn.Module<Tensor, Tensor> module)
    {
        if (!ModuleHookTables.Available) return false;
        var own = (Registered.TryGetValue(module, out _) ? 2 : 0) + (ModulePolicy.BoundaryDtype(module) is null ? 0 : 1);
        return ModuleHookTables.Count(module) > own;
    }

    /// <summary>
    /// <c>module.call(input)</c> with the pair in place and in order, for interceptors: the user's hooks run, and the
    /// GEMM runs as the mode says.
    /// </summary>
    public static Tensor Call(nn.Module<Tensor, Tensor> module, Tensor input)
    {
        Ensure(module);
        if (Registered.TryGetValue(module, out var pair))
        {
            ModuleHookTables.MovePreHookLast(module, pair.Before);
        }
        return module.call(input);
    }

    // TorchSharp's hook delegates return a non-nullable Tensor but read null as "unchanged".
    private static Tensor Before(nn.Module<Tensor, Tensor> module, Tensor input)
    {
        kept?.Remove(module); // a call that failed in forward leaves its input behind
        GemmModeFollowers.Forget(module);
        if (!Registered.TryGetValue(module, out var pair) || !TakesOver(module, input)) return null!;
        // Pre-hooks registered after the pair would see the empty batch: run natively this once; After reorders.
        if (!ModuleHookTables.IsLastPreHook(module, pair.Before)) return null!;
        // The user's forward hooks get the input the last pre-hook returns: run natively so that it is the real one.
        if (ModuleHookTables.HasPostHooksOtherThan(module, pair.After, GemmModeFollowers.Of(module))) return null!;
        (kept ??= new Dictionary<nn.Module, Tensor>(ReferenceEqualityComparer.Instance))[module] = input;
        return input.narrow(0, 0, 0);
    }

    private static Tensor After(nn.Module<Tensor, Tensor> module, Tensor input, Tensor result)
    {
        if (Registered.TryGetValue(module, out var pair) && !ModuleHookTables.IsLastPreHook(module, pair.Before))
            ModuleHookTables.MovePreHookLast(module, pair.Before);
        if (kept is null || !kept.Remove(module, out var real)) return null!;
        GemmModeFollowers.HandOn(module, real);
        return module switch
        {
            Linear linear => PolicyCasts.Fp32AccumulateLinear(linear, real, linear.weight.dtype),
            Convolution conv => PolicyCasts.Fp32AccumulateConv(conv, real, conv.weight.dtype),
            _ => null!,
        };
    }

    // Fp32Accumulate for the weights' 16-bit dtype on the input's device, and an input with a batch dimension to empty.
    private static bool TakesOver(nn.Module<Tensor, Tensor> module, Tensor input)
    {
        var (weight, batched) = module switch
        {
            Linear linear => (linear.weight, input.dim() >= 2),
            Convolution conv => (conv.weight, input.dim() == conv.kernel_size.Length + 2),
            _ => (null, false),
        };
        if (weight is null || !batched || !AutocastDtypes.IsCastable(input.dtype)) return false;
        var compute = weight.dtype;
        return compute is ScalarType.BFloat16 or ScalarType.Float16 && GemmModes.For(input.device_type, compute) == GemmMode.Fp32Accumulate;
    }
}
