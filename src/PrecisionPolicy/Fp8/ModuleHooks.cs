using System;
using System.Linq;
using System.Reflection;
using TorchSharp;

namespace PrecisionPolicy.Fp8;

/// <summary>Registers arity-free forward pre/post hooks on a module of any <c>Module&lt;...&gt;</c> arity.</summary>
internal static class ModuleHooks
{
    /// <summary>
    /// TorchSharp 0.107 declares <c>register_forward_pre_hook(Action&lt;Module&gt;)</c> and
    /// <c>register_forward_hook(Action&lt;Module&gt;)</c> only on <c>HookableModule&lt;TPreHook, TPostHook&gt;</c>,
    /// whose type arguments differ per arity (<c>Module&lt;T, TResult&gt;</c> up to six inputs), so
    /// the one registration that serves them all goes through reflection, once per attach.
    /// <c>call(...)</c> runs these hooks; <c>forward(...)</c> does not.
    /// </summary>
    public static void Register(torch.nn.Module module, Action<torch.nn.Module> before, Action<torch.nn.Module> after)
    {
        var hookable = HookableBase(module.GetType())
            ?? throw new NotSupportedException(
                $"'{module.GetName()}' ({module.GetType().FullName}) has no forward hooks: FP8 regions attach to modules deriving from " +
                "torch.nn.Module<T, TResult> (up to six inputs). Put [Autocast(Precision.FP8)] on such a module, or make the region " +
                "ambient by hand with Fp8Context.Enter().");
        Invoke(hookable, module, "register_forward_pre_hook", before);
        Invoke(hookable, module, "register_forward_hook", after);
    }

    private static Type? HookableBase(Type? type)
    {
        for (; type is not null; type = type.BaseType)
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(torch.nn.HookableModule<,>)) return type;
        return null;
    }

    private static void Invoke(Type hookable, torch.nn.Module module, string name, Action<torch.nn.Module> hook)
    {
        var method = hookable.GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Single(m => m.Name == name && m.GetParameters() is [{ ParameterType: var p }] && p == typeof(Action<torch.nn.Module>));
        method.Invoke(module, [hook]);
    }
}
