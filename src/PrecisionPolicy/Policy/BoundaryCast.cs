using System.Reflection;
using System;
using PrecisionPolicy.CompilerServices;
using static TorchSharp.torch;

namespace PrecisionPolicy.Policy;

/// <summary>
/// Casts a value of one forward-argument or result type of a <c>Module&lt;...&gt;</c> (a tensor, a
/// nullable tensor, the tuples the RNN family and attention take and return, or a type holding no
/// tensor) so that every castable floating tensor in it has a dtype, with <see cref="PolicyCasts.Exact"/>.
/// The shape of <typeparamref name="T"/> is read once per type; values of types that hold no tensor
/// (bool, PackedSequence, user types) pass through unchanged.
/// </summary>
internal static class BoundaryCast<T>
{
    /// <summary>The cast for <typeparamref name="T"/>, or null when the type holds no tensor to cast.</summary>
    public static readonly Func<T, ScalarType, T>? Cast = (Func<T, ScalarType, T>?)BoundaryCastShapes.For(typeof(T));

    /// <summary><paramref name="value"/> with its tensors cast to <paramref name="dtype"/>.</summary>
    public static T To(T value, ScalarType dtype) => Cast is null ? value : Cast(value, dtype);
}

/// <summary>The type shapes <see cref="BoundaryCast{T}"/> understands: tensors, nullables and tuples of them.</summary>
internal static class BoundaryCastShapes
{
    /// <summary>A <c>Func&lt;T, ScalarType, T&gt;</c> for <paramref name="type"/>, or null when it holds no tensor.</summary>
    public static Delegate? For(Type type)
    {
        if (type == typeof(Tensor)) return (Func<Tensor, ScalarType, Tensor>)CastTensor;
        if (!type.IsGenericType) return null;
        var arguments = type.GetGenericArguments();
        // Compose only when some element holds a tensor: a tuple of bools needs no hook.
        if (Array.TrueForAll(arguments, a => For(a) is null)) return null;
        var definition = type.GetGenericTypeDefinition();
        var factory = definition == typeof(Nullable<>) ? nameof(NullableOf)
            : definition == typeof(ValueTuple<,>) ? nameof(ValuePair)
            : definition == typeof(ValueTuple<,,>) ? nameof(ValueTriple)
            : definition == typeof(Tuple<,>) ? nameof(Pair)
            : definition == typeof(Tuple<,,>) ? nameof(Triple)
            : null;
        if (factory is null) return null;
        var method = typeof(BoundaryCastShapes).GetMethod(factory, BindingFlags.NonPublic | BindingFlags.Static)!;
        return (Delegate)method.MakeGenericMethod(arguments).Invoke(null, null)!;
    }

    // A null tensor is an omitted optional input (a mask, an initial hidden state).
    private static Tensor CastTensor(Tensor tensor, ScalarType dtype) => tensor is null ? tensor! : PolicyCasts.Exact(tensor, dtype);

    private static Func<TValue?, ScalarType, TValue?> NullableOf<TValue>() where TValue : struct =>
        static (value, dtype) => value is { } v ? BoundaryCast<TValue>.To(v, dtype) : value;

    private static Func<(T1, T2), ScalarType, (T1, T2)> ValuePair<T1, T2>() =>
        static (value, dtype) => (BoundaryCast<T1>.To(value.Item1, dtype), BoundaryCast<T2>.To(value.Item2, dtype));

    private static Func<(T1, T2, T3), ScalarType, (T1, T2, T3)> ValueTriple<T1, T2, T3>() =>
        static (value, dtype) => (BoundaryCast<T1>.To(value.Item1, dtype), BoundaryCast<T2>.To(value.Item2, dtype), BoundaryCast<T3>.To(value.Item3, dtype));

    private static Func<Tuple<T1, T2>, ScalarType, Tuple<T1, T2>> Pair<T1, T2>() =>
        static (value, dtype) => value is null ? value! : Tuple.Create(BoundaryCast<T1>.To(value.Item1, dtype), BoundaryCast<T2>.To(value.Item2, dtype));

    private static Func<Tuple<T1, T2, T3>, ScalarType, Tuple<T1, T2, T3>> Triple<T1, T2, T3>() =>
        static (value, dtype) => value is null
            ? value!
            : Tuple.Create(BoundaryCast<T1>.To(value.Item1, dtype), BoundaryCast<T2>.To(value.Item2, dtype), BoundaryCast<T3>.To(value.Item3, dtype));
}
