using System;
using System.Collections.Concurrent;
using System.Reflection;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.Policy;

/// <summary>
/// Typed forward hooks for a module of any <c>Module&lt;...&gt;</c> arity (one to six inputs, as
/// TorchSharp 0.107 declares them), whose tensor arguments and results may be tuples: the RNN family
/// takes <c>(h0, c0)</c> and returns <c>(output, h, c)</c>, MultiheadAttention returns
/// <c>Tuple&lt;Tensor, Tensor&gt;</c>. TorchSharp's typed hook delegates differ per arity, so the
/// registration is picked from the module's generic base type once per module type; the hooks
/// themselves run without reflection. Hooks run in <c>call(...)</c>, not in <c>forward(...)</c>.
/// </summary>
internal static class BoundaryHooks
{
    /// <summary>Registers a hook on <paramref name="module"/>; false when its signature holds no tensor to cast.</summary>
    private delegate bool Registrar(nn.Module module, Func<ScalarType?> dtype);

    private static readonly ConcurrentDictionary<Type, Registrar?> InputRegistrars = new();
    private static readonly ConcurrentDictionary<Type, Registrar?> OutputRegistrars = new();

    /// <summary>
    /// Registers a forward pre-hook that casts every castable floating tensor among the inputs to
    /// <paramref name="dtype"/>'s value (null: leave them). False when the module has no typed
    /// <c>Module&lt;...&gt;</c> base or its inputs hold no tensor.
    /// </summary>
    public static bool CastInputs(nn.Module module, Func<ScalarType?> dtype) =>
        InputRegistrars.GetOrAdd(module.GetType(), static type => Find(type, "Inputs")) is { } register && register(module, dtype);

    /// <summary>
    /// Registers a forward hook that casts every castable floating tensor in the result to
    /// <paramref name="dtype"/>'s value (null: leave it). False as for <see cref="CastInputs"/>.
    /// </summary>
    public static bool CastOutputs(nn.Module module, Func<ScalarType?> dtype) =>
        OutputRegistrars.GetOrAdd(module.GetType(), static type => Find(type, "Outputs")) is { } register && register(module, dtype);

    private static Registrar? Find(Type type, string prefix)
    {
        for (var t = type; t is not null; t = t.BaseType)
        {
            if (!t.IsGenericType || t.GetGenericTypeDefinition() is not { } definition) continue;
            var arity = Array.IndexOf(ModuleDefinitions, definition) + 1;
            if (arity == 0) continue;
            var method = typeof(BoundaryHooks).GetMethod(prefix + arity, BindingFlags.NonPublic | BindingFlags.Static)!;
            return method.MakeGenericMethod(t.GetGenericArguments()).CreateDelegate<Registrar>();
        }
        return null;
    }

    private static readonly Type[] ModuleDefinitions =
    [
        typeof(nn.Module<,>), typeof(nn.Module<,,>), typeof(nn.Module<,,,>),
        typeof(nn.Module<,,,,>), typeof(nn.Module<,,,,,>), typeof(nn.Module<,,,,,,>),
    ];

    private static bool Inputs1<T1, TResult>(nn.Module module, Func<ScalarType?> dtype)
    {
        if (BoundaryCast<T1>.Cast is null) return false;
        ((nn.Module<T1, TResult>)module).register_forward_pre_hook((_, a) => dtype() is { } d ? BoundaryCast<T1>.To(a, d) : a);
        return true;
    }

    private static bool Inputs2<T1, T2, TResult>(nn.Module module, Func<ScalarType?> dtype)
    {
        if (BoundaryCast<T1>.Cast is null && BoundaryCast<T2>.Cast is null) return false;
        ((nn.Module<T1, T2, TResult>)module).register_forward_pre_hook((_, a, b) =>
            dtype() is { } d ? (BoundaryCast<T1>.To(a, d), BoundaryCast<T2>.To(b, d)) : null);
        return true;
    }

    private static bool Inputs3<T1, T2, T3, TResult>(nn.Module module, Func<ScalarType?> dtype)
    {
        if (BoundaryCast<T1>.Cast is null && BoundaryCast<T2>.Cast is null && BoundaryCast<T3>.Cast is null) return false;
        ((nn.Module<T1, T2, T3, TResult>)module).register_forward_pre_hook((_, a, b, c) =>
            dtype() is { } d ? (BoundaryCast<T1>.To(a, d), BoundaryCast<T2>.To(b, d), BoundaryCast<T3>.To(c, d)) : null);
        return true;
    }

    private static bool Inputs4<T1, T2, T3, T4, TResult>(nn.Module module, Func<ScalarType?> dtype)
    {
        if (BoundaryCast<T1>.Cast is null && BoundaryCast<T2>.Cast is null && BoundaryCast<T3>.Cast is null && BoundaryCast<T4>.Cast is null)
            return false;
        ((nn.Module<T1, T2, T3, T4, TResult>)module).register_forward_pre_hook((_, a, b, c, e) =>
            dtype() is { } d ? (BoundaryCast<T1>.To(a, d), BoundaryCast<T2>.To(b, d), BoundaryCast<T3>.To(c, d), BoundaryCast<T4>.To(e, d)) : null);
        return true;
    }

    private static bool Inputs5<T1, T2, T3, T4, T5, TResult>(nn.Module module, Func<ScalarType?> dtype)
    {
        if (BoundaryCast<T1>.Cast is null && BoundaryCast<T2>.Cast is null && BoundaryCast<T3>.Cast is null && BoundaryCast<T4>.Cast is null
            && BoundaryCast<T5>.Cast is null)
            return false;
        ((nn.Module<T1, T2, T3, T4, T5, TResult>)module).register_forward_pre_hook((_, a, b, c, e, f) =>
            dtype() is { } d
                ? (BoundaryCast<T1>.To(a, d), BoundaryCast<T2>.To(b, d), BoundaryCast<T3>.To(c, d), BoundaryCast<T4>.To(e, d), BoundaryCast<T5>.To(f, d))
                : null);
        return true;
    }

    private static bool Inputs6<T1, T2, T3, T4, T5, T6, TResult>(nn.Module module, Func<ScalarType?> dtype)
    {
        if (BoundaryCast<T1>.Cast is null && BoundaryCast<T2>.Cast is null && BoundaryCast<T3>.Cast is null && BoundaryCast<T4>.Cast is null
            && BoundaryCast<T5>.Cast is null && BoundaryCast<T6>.Cast is null)
            return false;
        ((nn.Module<T1, T2, T3, T4, T5, T6, TResult>)module).register_forward_pre_hook((_, a, b, c, e, f, g) =>
            dtype() is { } d
                ? (BoundaryCast<T1>.To(a, d), BoundaryCast<T2>.To(b, d), BoundaryCast<T3>.To(c, d), BoundaryCast<T4>.To(e, d), BoundaryCast<T5>.To(f, d),
                    BoundaryCast<T6>.To(g, d))
                : null);
        return true;
    }

    private static TResult Result<TResult>(TResult result, Func<ScalarType?> dtype) =>
        dtype() is { } d ? BoundaryCast<TResult>.To(result, d) : result;

    private static bool Outputs1<T1, TResult>(nn.Module module, Func<ScalarType?> dtype)
    {
        if (BoundaryCast<TResult>.Cast is null) return false;
        ((nn.Module<T1, TResult>)module).register_forward_hook((_, _, result) => Result(result, dtype));
        return true;
    }

    private static bool Outputs2<T1, T2, TResult>(nn.Module module, Func<ScalarType?> dtype)
    {
        if (BoundaryCast<TResult>.Cast is null) return false;
        ((nn.Module<T1, T2, TResult>)module).register_forward_hook((_, _, _, result) => Result(result, dtype));
        return true;
    }

    private static bool Outputs3<T1, T2, T3, TResult>(nn.Module module, Func<ScalarType?> dtype)
    {
        if (BoundaryCast<TResult>.Cast is null) return false;
        ((nn.Module<T1, T2, T3, TResult>)module).register_forward_hook((_, _, _, _, result) => Result(result, dtype));
        return true;
    }

    private static bool Outputs4<T1, T2, T3, T4, TResult>(nn.Module module, Func<ScalarType?> dtype)
    {
        if (BoundaryCast<TResult>.Cast is null) return false;
        ((nn.Module<T1, T2, T3, T4, TResult>)module).register_forward_hook((_, _, _, _, _, result) => Result(result, dtype));
        return true;
    }

    private static bool Outputs5<T1, T2, T3, T4, T5, TResult>(nn.Module module, Func<ScalarType?> dtype)
    {
        if (BoundaryCast<TResult>.Cast is null) return false;
        ((nn.Module<T1, T2, T3, T4, T5, TResult>)module).register_forward_hook((_, _, _, _, _, _, result) => Result(result, dtype));
        return true;
    }

    private static bool Outputs6<T1, T2, T3, T4, T5, T6, TResult>(nn.Module module, Func<ScalarType?> dtype)
    {
        if (BoundaryCast<TResult>.Cast is null) return false;
        ((nn.Module<T1, T2, T3, T4, T5, T6, TResult>)module).register_forward_hook((_, _, _, _, _, _, _, result) => Result(result, dtype));
        return true;
    }
}
