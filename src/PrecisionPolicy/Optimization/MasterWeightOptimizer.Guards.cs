using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;
using TorchSharp.Modules;

namespace PrecisionPolicy.Optimization;

/// <summary>Misuse that must be a clear error, never lost state: concurrent calls, shared parameters, use after Dispose.</summary>
public sealed partial class MasterWeightOptimizer
{
    // Parameters re-pointed into a live optimizer's buffers: another optimizer over them, or a
    // policy that re-allocates them, would leave this one stepping tensors the module no longer uses.
    private static readonly ConditionalWeakTable<Parameter, MasterWeightOptimizer> Holders = new();

    private int busy;
    private string? running;
    private int runningThread;
    private bool warnedFp16Unscaled;

    /// <summary>
    /// Run-time warnings, each at most once per optimizer: FP16 parameters trained without loss scaling;
    /// training that has stopped learning (the dynamic loss scale below 1, or a stretch of applied steps
    /// whose gradients are all zero), with what to do. When no handler is attached the warning goes to
    /// standard error, as Python's warnings do.
    /// </summary>
    public event EventHandler<string>? Warning;

    /// <summary>The live optimizer whose buffers <paramref name="parameter"/> lives in, or null.</summary>
    internal static MasterWeightOptimizer? HolderOf(Parameter parameter)
    {
        lock (Holders) return Holders.TryGetValue(parameter, out var holder) && !holder.disposed ? holder : null;
    }

    private static void ThrowIfHeldByAnother((string Name, Parameter Parameter)[] trainable)
    {
        foreach (var (name, p) in trainable)
            if (HolderOf(p) is not null)
                throw new ArgumentException(
                    $"Parameter '{name}' is already held by another MasterWeightOptimizer: each optimizer re-points the parameters into its own " +
                    "buffers, so one of the two would step a copy the module no longer uses. Dispose the other optimizer first.", "parameters");
    }

    private void Hold()
    {
        lock (Holders)
            foreach (var s in slots) Holders.AddOrUpdate(s.Working, this);
    }

    private void Release()
    {
        lock (Holders)
            foreach (var s in slots)
                if (Holders.TryGetValue(s.Working, out var holder) && ReferenceEquals(holder, this)) Holders.Remove(s.Working);
    }

    /// <summary>
    /// Marks <paramref name="operation"/> as running. A second call while one runs throws instead of
    /// waiting: a lock would serialise two training loops silently, each stepping on the other's gradients.
    /// </summary>
    private CallGuard Enter(string operation)
    {
        ThrowIfDisposed();
        if (Interlocked.CompareExchange(ref busy, 1, 0) != 0)
        {
            var other = Volatile.Read(ref running) ?? "another call";
            throw new InvalidOperationException(Volatile.Read(ref runningThread) == Environment.CurrentManagedThreadId
                ? $"{operation}() was called from inside {other}() on this MasterWeightOptimizer (from a companion, scheduler or hook it runs): " +
                  "call it after that call returns."
                : $"{operation}() was called while {other}() is running on this MasterWeightOptimizer on another thread. An optimizer is not " +
                  "thread-safe and its steps have an order: drive it from one training thread (or give each thread its own model and optimizer).");
        }
        Volatile.Write(ref running, operation);
        Volatile.Write(ref runningThread, Environment.CurrentManagedThreadId);
        if (disposed)
        {
            Exit();
            ThrowIfDisposed();
        }
        if (operation is nameof(Step) or nameof(Save) or nameof(Load) or nameof(state_dict) or nameof(load_state_dict))
        {
            try
            {
                ThrowIfParameterSetChanged(operation); // MasterWeightOptimizer.ParameterSet.cs
            }
            catch
            {
                Exit();
                throw;
            }
        }
        return new CallGuard(this);
    }

    private void Exit()
    {
        Volatile.Write(ref running, null);
        // Cleared, not left stale: a thread refused just after another entered (before its id is written)
        // would otherwise read its own id from its last call and report a re-entrant call instead.
        Volatile.Write(ref runningThread, 0);
        Volatile.Write(ref busy, 0);
    }

    private readonly struct CallGuard(MasterWeightOptimizer owner) : IDisposable
    {
        public void Dispose() => owner.Exit();
    }

    private void ThrowIfDisposed()
    {
        if (disposed)
            throw new ObjectDisposedException(nameof(MasterWeightOptimizer),
                "This MasterWeightOptimizer was disposed: its masters, gradient buffers and inner optimizer are freed. " +
                "Create a new optimizer (and Load a checkpoint to continue) instead of using a disposed one.");
    }

    /// <summary>FP16 loss without scaling flushes small gradients to zero (PP0004 at build time); this is the run-time word.</summary>
    private void WarnOnceIfFp16Unscaled()
    {
        if (warnedFp16Unscaled || Scaler.Enabled) return;
        warnedFp16Unscaled = true;
        long elements = 0, zeros = 0;
        foreach (var g in groups)
        {
            if (g.Dtype != TorchSharp.torch.ScalarType.Float16) continue;
            elements += g.WorkingGrad.numel();
            zeros += g.WorkingGrad.numel() - HostReads.Scalar<long>(g.WorkingGrad.count_nonzero());
        }
        if (elements == 0) return;
        var message =
            $"PrecisionPolicy: {elements} FP16 parameter elements train without loss scaling; {100.0 * zeros / elements:F1}% of the first backward's " +
            "FP16 gradient elements are exactly zero (FP16 flushes magnitudes below 6e-8 to zero). Use dynamic loss scaling: " +
            "[LossScaling] on the module or MasterWeightOptions.Scaling = LossScalerOptions.Dynamic.";
        if (Warning is { } handler) handler(this, message);
        else Console.Error.WriteLine("warning: " + message);
        Trace.TraceWarning(message);
    }
}
