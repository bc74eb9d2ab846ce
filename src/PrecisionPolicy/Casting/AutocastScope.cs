using System;
using System.Threading;

namespace PrecisionPolicy.Casting;

/// <summary>
/// Overrides the precision compiled into <c>[Autocast]</c> code for the current asynchronous flow:
/// the way to run one annotated model under several precisions (FP32 reference, BF16, FP16), as
/// PyTorch's <c>autocast(dtype=...)</c> context does. Generated code resolves its declared precision
/// through <see cref="Effective"/> (storage in <c>ApplyPrecisionPolicy()</c>, default loss scaling) and
/// the <see cref="CompilerServices.Autocast"/> helpers resolve the compute dtype the same way;
/// <c>[HighPrecision]</c> parts stay FP32 whatever the scope.
/// </summary>
/// <remarks>
/// The override is held in an <see cref="AsyncLocal{T}"/>, as <see cref="System.Diagnostics.Activity.Current"/>
/// is: it flows across <c>await</c> (the continuation sees it on whatever thread it resumes on) and into
/// tasks started inside the scope, while tasks running side by side each see only their own scope.
/// A scope entered inside an async method does not leak back to its caller.
/// </remarks>
public static class AutocastScope
{
    private static readonly AsyncLocal<Precision?> Scoped = new();

    /// <summary>The override in force in this asynchronous flow, or null.</summary>
    public static Precision? Current => Scoped.Value;

    /// <summary>The precision to use for code declared with <paramref name="declared"/>.</summary>
    public static Precision Effective(Precision declared) => Scoped.Value ?? declared;

    /// <summary>The compute dtype to use where <paramref name="compiled"/> was compiled into a call site.</summary>
    public static TorchSharp.torch.ScalarType ComputeDtype(TorchSharp.torch.ScalarType compiled) =>
        Scoped.Value is { } scoped ? AutocastDtypes.ComputeDtype(scoped) : compiled;

    /// <summary>Overrides the precision until the returned handle is disposed; scopes nest.</summary>
    public static IDisposable Use(Precision precision)
    {
        var previous = Scoped.Value;
        Scoped.Value = precision;
        return new Restore(previous);
    }

    private sealed class Restore(Precision? previous) : IDisposable
    {
        private bool done;

        public void Dispose()
        {
            if (done) return;
            done = true;
            Scoped.Value = previous;
        }
    }
}
