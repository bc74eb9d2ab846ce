using System;
using System.Collections.Generic;
using System.Linq;
using PrecisionPolicy.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace PrecisionPolicy.IntegrationTests.Conformance;

/// <summary>
/// Records, for every leaf module call of a forward, the dtype the call arrived with and the dtype the
/// module computed in: a forward pre-hook registered before <c>ApplyPrecisionPolicy()</c> sees the
/// arguments before the policy's boundary hook, one registered after it sees what the module gets.
/// The dtype of a call is that of its first floating tensor argument, or, when it has none (an
/// embedding's integer indices), of the module's floating parameters (the table the lookup reads).
/// </summary>
/// <remarks>
/// Hooks run in <c>call(...)</c>: Linear/Conv calls that the GEMM mode Fp32Accumulate turns into functional
/// ops are not seen, so record under <see cref="GemmMode.Native"/>. Calls made with <c>forward(...)</c> are not
/// seen either: after a backward, <see cref="InferUnhookedCalls"/> adds each Linear or convolution that got a
/// gradient but no recorded call, computing in its weights' dtype (a GEMM runs only on an input of its
/// weights' dtype), marked as inferred; any other such leaf is an error.
/// Policy modules with their own <c>[Autocast]</c> (an RmsNorm written with functional ops) are regions,
/// not leaf ops: their ops are functional and TorchSharp has no per-op hook, so they are not recorded.
/// </remarks>
internal sealed class LeafDtypeRecorder
{
    public sealed record LeafCall(string Path, string Module, ScalarType Arrived, ScalarType Received, bool Inferred = false);

    private readonly List<LeafCall> calls = new();
    private readonly Dictionary<nn.Module, ScalarType> arrived = new(ReferenceEqualityComparer.Instance);
    private readonly List<(string Path, nn.Module Module)> leaves;

    private LeafDtypeRecorder(nn.Module root)
    {
        leaves = root.named_modules()
            .Where(m => !m.module.named_children().Any() && m.module is not IPrecisionPolicyModule)
            .Select(m => (m.name, m.module)).ToList();
        // Leaves that share a parameter with another leaf (a tied embedding and head) are looked up as "Type (tied)".
        var owners = leaves.SelectMany(l => l.Item2.parameters().Select(p => (Handle: Address(p), l.Item2)))
            .GroupBy(o => o.Handle).Where(g => g.Select(o => o.Item2).Distinct(ReferenceEqualityComparer.Instance).Count() > 1)
            .SelectMany(g => g.Select(o => o.Item2));
        tied = new HashSet<nn.Module>(owners, ReferenceEqualityComparer.Instance);
        foreach (var (path, module) in leaves) Hook(module, path, before: true);
    }

    private readonly HashSet<nn.Module> tied;

    // The address of a tensor's first element (TorchSharp's internal NativeMethods.THSTensor_data): TorchSharp wraps a
    // native module's parameter in a new object with a new handle on each read, so only the address says two are one.
    public static nint Address(Tensor tensor) =>
        (nint)typeof(torch).Assembly.GetType("TorchSharp.PInvoke.NativeMethods")!
            .GetMethod("THSTensor_data", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static, [typeof(nint)])!
            .Invoke(null, [tensor.Handle])!;

    private string NameOf(nn.Module module) => module.GetType().Name + (tied.Contains(module) ? " (tied)" : "");

    public IReadOnlyList<LeafCall> Calls => calls;

    /// <summary>Hooks the leaves of <paramref name="root"/> before its policy is applied.</summary>
    public static LeafDtypeRecorder Before(nn.Module root) => new(root);

    /// <summary>Hooks the same leaves again, after the policy's hooks.</summary>
    public void AfterPolicy()
    {
        foreach (var (path, module) in leaves) Hook(module, path, before: false);
    }

    /// <summary>Adds the leaves whose parameters got a gradient without a recorded call (called with <c>forward(...)</c>).</summary>
    public void InferUnhookedCalls()
    {
        foreach (var (path, module) in leaves)
        {
            if (calls.Any(c => c.Path == path)) continue;
            var used = module.parameters().FirstOrDefault(p => p.is_floating_point() && p.grad is not null);
            if (used is null) continue;
            // Only a GEMM refuses an input of another dtype than its weights; for any other module the dtype is unknown.
            if (module is not (TorchSharp.Modules.Linear or TorchSharp.Modules.Convolution))
                throw new InvalidOperationException($"{path} ({module.GetType().Name}) ran without a hook seeing it (a forward(...) call): its input dtype cannot be inferred.");
            calls.Add(new LeafCall(path, NameOf(module), used.dtype, used.dtype, Inferred: true));
        }
    }

    private void Note(nn.Module module, string path, bool before, params Tensor?[] inputs)
    {
        var dtype = DtypeOf(module, inputs);
        if (before)
        {
            arrived[module] = dtype;
            return;
        }
        calls.Add(new LeafCall(path, NameOf(module), arrived.Remove(module, out var first) ? first : dtype, dtype));
    }

    private static ScalarType DtypeOf(nn.Module module, Tensor?[] inputs)
    {
        var floating = inputs.FirstOrDefault(t => t is not null && t.is_floating_point())
            ?? module.parameters().FirstOrDefault(p => p.is_floating_point());
        return floating?.dtype
            ?? throw new InvalidOperationException($"{module.GetType().Name} was called with no floating tensor and has no floating parameter.");
    }

    // One case per Module<...> shape of the conformance models' leaves; any other shape is refused, so no leaf goes unrecorded.
    private void Hook(nn.Module module, string path, bool before)
    {
        switch (module)
        {
            case nn.Module<Tensor, Tensor> unary:
                unary.register_forward_pre_hook((m, x) => { Note(m, path, before, x); return x; });
                break;
            case nn.Module<Tensor, Tensor, Tensor, Tensor> bag: // EmbeddingBag: input, offsets, per-sample weights
                bag.register_forward_pre_hook((m, x, offsets, weights) => { Note(m, path, before, weights); return null; });
                break;
            case nn.Module<Tensor, (Tensor, Tensor)?, (Tensor, Tensor, Tensor)> lstm:
                lstm.register_forward_pre_hook((m, x, state) => { Note(m, path, before, x, state?.Item1, state?.Item2); return null; });
                break;
            case nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor> decoder: // target, memory, four masks
                decoder.register_forward_pre_hook((m, target, memory, a, b, c, d) => { Note(m, path, before, target, memory); return null; });
                break;
            default:
                throw new NotSupportedException($"LeafDtypeRecorder has no hook for {path} ({module.GetType().FullName}): add its Module<...> shape.");
        }
    }

    /// <summary>The calls whose computed dtype differs from the reference table's, as "path (Module): got X, expected Y".</summary>
    public IReadOnlyList<string> Mismatches(ScalarType compute) =>
        calls.Where(c => c.Received != AutocastReference.Expected(c.Module, compute, c.Arrived))
            .Select(c => $"{c.Path} ({c.Module}): {c.Received}, expected {AutocastReference.Expected(c.Module, compute, c.Arrived)}")
            .ToList();
}
