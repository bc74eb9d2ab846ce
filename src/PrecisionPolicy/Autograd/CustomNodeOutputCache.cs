using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Reflection;
using static TorchSharp.torch;

namespace PrecisionPolicy.Autograd;

/// <summary>
/// Frees the output-sized buffer TorchSharp 0.107 keeps beside each output of a C# autograd node.
/// <c>Function&lt;T&gt;.apply</c> stores <c>empty_like(output)</c> per output in the node
/// (<c>Node&lt;T&gt;._outputCache</c>) for the node's lifetime, only to build zeros when backward brings no
/// gradient for that output. For an Fp32Accumulate GEMM node that is a second copy of its result, alive
/// until the graph is freed: BF16 attention scores and MLP activations would cost twice their bytes.
/// <see cref="Apply"/> frees the buffers and nulls the entries, which TorchSharp's backward reads as
/// "pass the missing gradient on as undefined": <see cref="GuardedAutogradFunction{T}"/> then gets an invalid
/// <c>grad_output</c> and returns no gradients (what zeros would have given, without allocating them).
/// When TorchSharp's internals differ (another version), nothing is freed: the node only holds more memory.
/// </summary>
internal static class CustomNodeOutputCache
{
    private static readonly FieldInfo? ContextNode = typeof(autograd.AutogradContext).GetField("_node", BindingFlags.NonPublic | BindingFlags.Instance);
    private static readonly ConcurrentDictionary<Type, FieldInfo?> CacheFields = new();

    // The context of the node whose forward ran last on this thread inside Apply (apply builds the cache after
    // forward returns); null outside Apply, so no other node's context is kept alive here.
    [ThreadStatic] private static autograd.AutogradContext? pending;
    [ThreadStatic] private static bool applying;

    /// <summary>Runs <paramref name="apply"/> (TorchSharp's apply of a node) and frees the output cache of its node.</summary>
    public static Tensor Apply(Func<Tensor> apply)
    {
        applying = true;
        try
        {
            var output = apply();
            if (pending is { } ctx && Cache(ctx) is { } cache)
            {
                for (var i = 0; i < cache.Count; i++)
                {
                    cache[i]?.Dispose();
                    cache[i] = null;
                }
            }
            return output;
        }
        finally
        {
            (applying, pending) = (false, null);
        }
    }

    /// <summary>Called by a node's forward once it has run: its context, for <see cref="Apply"/> to free the cache of.</summary>
    public static void Remember(autograd.AutogradContext ctx)
    {
        if (applying) pending = ctx;
    }

    private static List<Tensor?>? Cache(autograd.AutogradContext ctx)
    {
        if (ContextNode?.GetValue(ctx) is not { } node) return null;
        var field = CacheFields.GetOrAdd(node.GetType(), static type => type.GetField("_outputCache", BindingFlags.NonPublic | BindingFlags.Instance));
        return field?.GetValue(node) as List<Tensor?>;
    }
}
