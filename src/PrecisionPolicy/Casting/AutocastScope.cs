using System;

namespace PrecisionPolicy;

/// <summary>
/// Overrides, on this thread, the precision compiled into <c>[Autocast]</c> code: the way to run
/// one annotated model under several precisions (FP32 reference, BF16, FP16), as PyTorch's
/// <c>autocast(dtype=...)</c> context does. Generated code resolves its declared precision through
/// <see cref="Effective"/> (storage in <c>ApplyPrecisionPolicy()</c>, default loss scaling) and the
/// <see cref="CompilerServices.Autocast"/> helpers resolve the compute dtype the same way; <c>[HighPrecision]</c>
/// parts stay FP32 whatever the scope.
/// </summary>
public static class AutocastScope
{
    [ThreadStatic] private static Precision? current;

    /// <summary>The override in force on this thread, or null.</summary>
    public static Precision? Current => current;

    /// <summary>The precision to use for code declared with <paramref name="declared"/>.</summary>
    public static Precision Effective(Precision declared) => current ?? declared;

    /// <summary>The compute dtype to use where <paramref name="compiled"/> was compiled into a call site.</summary>
    public static TorchSharp.torch.ScalarType ComputeDtype(TorchSharp.torch.ScalarType compiled) =>
        current is { } scoped ? AutocastDtypes.ComputeDtype(scoped) : compiled;

    /// <summary>Overrides the precision until the returned handle is disposed; scopes nest.</summary>
    public static IDisposable Use(Precision precision)
    {
        var previous = current;
        current = precision;
        return new Restore(previous);
    }

    private sealed class Restore(Precision? previous) : IDisposable
    {
        private bool done;

        public void Dispose()
        {
            if (done) return;
            done = true;
            current = previous;
        }
    }
}
