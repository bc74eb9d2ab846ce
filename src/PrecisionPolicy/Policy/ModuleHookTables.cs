using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using TorchSharp;
using static TorchSharp.torch;
using PostHook = System.Func<TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>, TorchSharp.torch.Tensor, TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>;
using PreHook = System.Func<TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>, TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>;

namespace PrecisionPolicy.Policy;

/// <summary>
/// The forward-hook tables of a <c>Module&lt;Tensor, Tensor&gt;</c> (Linear, Conv*): how many hooks it holds and
/// where ours stand among them. TorchSharp 0.107 keeps them in protected dictionaries of
/// <c>HookableModule&lt;TPreHook, TPostHook&gt;</c> that <c>call(...)</c> enumerates in insertion order, with no public
/// count or order; they are read here through reflection (the fields are looked up once). When a TorchSharp
/// version renames them, <see cref="Available"/> is false and callers keep their behaviour without hooks.
/// </summary>
internal static class ModuleHookTables
{
    private const BindingFlags Instance = BindingFlags.NonPublic | BindingFlags.Instance;
    private static readonly Type Hookable = typeof(nn.HookableModule<PreHook, PostHook>);
    private static readonly FieldInfo? PreHooks = Hookable.GetField("pre_hooks", Instance);
    private static readonly FieldInfo? PostHooks = Hookable.GetField("post_hooks", Instance);
    private static readonly FieldInfo? ModulePreHooks = Hookable.GetField("module_pre_hooks", Instance);
    private static readonly FieldInfo? ModulePostHooks = Hookable.GetField("module_post_hooks", Instance);

    /// <summary>True when this TorchSharp's hook tables were found.</summary>
    public static bool Available { get; } =
        PreHooks?.FieldType == typeof(Dictionary<string, PreHook>) && PostHooks?.FieldType == typeof(Dictionary<string, PostHook>)
        && ModulePreHooks?.FieldType == typeof(Dictionary<string, Action<nn.Module>>) && ModulePostHooks?.FieldType == typeof(Dictionary<string, Action<nn.Module>>);

    /// <summary>Every forward hook registered on <paramref name="module"/> (typed and module-only, before and after).</summary>
    public static int Count(nn.Module<Tensor, Tensor> module) =>
        Pre(module).Count + Post(module).Count
        + ((Dictionary<string, Action<nn.Module>>)ModulePreHooks!.GetValue(module)!).Count
        + ((Dictionary<string, Action<nn.Module>>)ModulePostHooks!.GetValue(module)!).Count;

    /// <summary>True when <paramref name="hook"/> is the last typed pre-hook (the one <c>forward</c> runs right after).</summary>
    public static bool IsLastPreHook(nn.Module<Tensor, Tensor> module, PreHook hook)
    {
        PreHook? last = null;
        foreach (var value in Pre(module).Values) last = value;
        return ReferenceEquals(last, hook);
    }

    /// <summary>
    /// True when a typed forward hook other than <paramref name="hook"/> is registered: TorchSharp's <c>call</c> hands
    /// every forward hook the input as the pre-hooks left it. Hooks in <paramref name="followers"/> registered after
    /// <paramref name="hook"/> do not count (they read the real input another way). (Module-only hooks see no tensor and
    /// are not counted.)
    /// </summary>
    public static bool HasPostHooksOtherThan(nn.Module<Tensor, Tensor> module, PostHook hook, IReadOnlyList<PostHook>? followers = null)
    {
        var after = false;
        foreach (var value in Post(module).Values)
        {
            if (ReferenceEquals(value, hook)) after = true;
            else if (!after || followers is null || !followers.Any(f => ReferenceEquals(f, value))) return true;
        }
        return false;
    }

    /// <summary>
    /// Moves <paramref name="hook"/> to the end of the pre-hook table. Not while <c>call</c> enumerates that table
    /// (from a pre-hook): from a forward hook or outside a call.
    /// </summary>
    public static void MovePreHookLast(nn.Module<Tensor, Tensor> module, PreHook hook) => MoveLast(Pre(module), hook);

    private static Dictionary<string, PreHook> Pre(nn.Module<Tensor, Tensor> module) => (Dictionary<string, PreHook>)PreHooks!.GetValue(module)!;

    private static Dictionary<string, PostHook> Post(nn.Module<Tensor, Tensor> module) => (Dictionary<string, PostHook>)PostHooks!.GetValue(module)!;

    // A Dictionary enumerates in insertion order until an entry is removed; cleared and refilled, it is in this order again.
    private static void MoveLast<THook>(Dictionary<string, THook> table, THook hook) where THook : class
    {
        var entries = table.ToList();
        var ours = entries.FindIndex(e => ReferenceEquals(e.Value, hook));
        if (ours < 0) return;
        var entry = entries[ours];
        entries.RemoveAt(ours);
        entries.Add(entry);
        table.Clear();
        foreach (var (key, value) in entries) table.Add(key, value);
    }
}
