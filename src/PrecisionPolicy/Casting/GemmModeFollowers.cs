using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;
using PostHook = System.Func<TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>, TorchSharp.torch.Tensor, TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>;

namespace PrecisionPolicy.Casting;

/// <summary>
/// Forward hooks of the toolkit's that add to a Linear's or convolution's result (a LoRA adapter's branch) and read
/// the call's real input through <see cref="RealInput"/> instead of their input argument. Registered after the
/// GEMM-mode hooks' own forward hook, they do not keep those from taking the call over under
/// <see cref="GemmMode.Fp32Accumulate"/> (which hands <c>forward</c> an empty batch and every later forward hook that
/// empty batch as its input): the taking-over hook hands the real input on here.
/// </summary>
internal static class GemmModeFollowers
{
    private static readonly ConditionalWeakTable<nn.Module, List<PostHook>> Registered = new();

    // The real input of a call that was taken over, for the module's followers; per thread (one module may run on several).
    [ThreadStatic] private static Dictionary<nn.Module, Tensor>? handedOn;

    /// <summary>Registers <paramref name="hook"/> as a forward hook of <paramref name="module"/> and as a follower.</summary>
    public static void Register(nn.Module<Tensor, Tensor> module, PostHook hook)
    {
        lock (Registered)
        {
            module.register_forward_hook(hook);
            Registered.GetOrCreateValue(module).Add(hook);
        }
    }

    /// <summary>The followers registered on <paramref name="module"/>, or null.</summary>
    public static IReadOnlyList<PostHook>? Of(nn.Module module) => Registered.TryGetValue(module, out var hooks) ? hooks : null;

    /// <summary>For the hook that took a call over: hands <paramref name="real"/> on to the module's followers.</summary>
    public static void HandOn(nn.Module module, Tensor real)
    {
        if (Registered.TryGetValue(module, out _))
            (handedOn ??= new Dictionary<nn.Module, Tensor>(ReferenceEqualityComparer.Instance))[module] = real;
    }

    /// <summary>Drops what a call that failed before its followers ran left behind.</summary>
    public static void Forget(nn.Module module) => handedOn?.Remove(module);

    /// <summary>For a follower: the real input of the call that was taken over, else <paramref name="input"/>.</summary>
    public static Tensor RealInput(nn.Module module, Tensor input) =>
        handedOn is not null && handedOn.Remove(module, out var real) ? real : input;
}
