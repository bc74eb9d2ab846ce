using System.ComponentModel;
using System.Threading;
using System;
using PrecisionPolicy.Casting;
using static TorchSharp.torch;

namespace PrecisionPolicy.CompilerServices;

/// <summary>
/// The policy in force where code runs: entered by generated code when a policy region (an
/// <c>[Autocast]</c> class or method, or a <c>[HighPrecision]</c> method) calls code outside it (a helper,
/// an extension method, a module the static type says nothing about), and read by the interceptors of
/// catalogued calls written outside every policy. So a helper is cast as if written inside the region
/// that calls it, decided when it runs, as PyTorch's dispatcher-level autocast decides; outside any
/// region those interceptors cost this one read and call the op untouched.
/// </summary>
/// <remarks>
/// Held in an <see cref="AsyncLocal{T}"/>, as <see cref="AutocastScope"/> is: it flows across <c>await</c>
/// and into tasks started inside the region, and regions nest (the innermost wins). Each entry is
/// disposed by a <c>using</c> in generated code, so an exception leaves no region behind.
/// For generated code; not for direct use: its members may change in any release.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class PolicyRegion
{
    private static readonly AsyncLocal<Frame?> Innermost = new();

    /// <summary>The region in force in this asynchronous flow, or null outside every policy.</summary>
    public static Frame? Current => Innermost.Value;

    /// <summary>
    /// Enters a low-precision region compiled with <paramref name="compute"/> (an <see cref="AutocastScope"/>
    /// still overrides it where the casts resolve it), or, with <paramref name="float32"/>, an FP32 region
    /// (a <c>[HighPrecision]</c> method: low-precision rows computed in float32 whatever the scope).
    /// </summary>
    public static Entry Enter(ScalarType compute, bool float32 = false)
    {
        var previous = Innermost.Value;
        Innermost.Value = new Frame(compute, float32);
        return new Entry(previous);
    }

    /// <summary>A region: its compiled compute dtype, and whether it computes everything in float32.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public sealed class Frame
    {
        internal Frame(ScalarType compute, bool float32)
        {
            Compute = compute;
            Float32 = float32;
        }

        /// <summary>The compute dtype compiled into the region.</summary>
        public ScalarType Compute { get; }

        /// <summary>True in an FP32 region: operands of low-precision rows are widened to float32.</summary>
        public bool Float32 { get; }

        /// <summary>An operand of a low-precision row, cast as the region's own interceptors would cast it.</summary>
        public Tensor LowPrecision(Tensor tensor) => Float32 ? Autocast.Float32(tensor) : Autocast.LowPrecision(tensor, Compute);

        /// <summary><see cref="LowPrecision"/> for optional operands.</summary>
        public Tensor? LowPrecisionOptional(Tensor? tensor) => tensor is null ? null : LowPrecision(tensor);

        /// <summary><see cref="LowPrecision"/> for every tensor of a sequence.</summary>
        public Tensor[] LowPrecisionAll(System.Collections.Generic.IEnumerable<Tensor> tensors) => PolicyCasts.Map(tensors, LowPrecision);

        /// <summary>The result of a low-precision row (rounded to the compute dtype in Fp32Accumulate mode).</summary>
        public Tensor LowPrecisionResult(Tensor result) => Float32 ? result : Autocast.LowPrecisionResult(result, Compute);
    }

    /// <summary>Leaves a region: restores the one in force before it.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public readonly struct Entry : IDisposable
    {
        private readonly Frame? previous;

        internal Entry(Frame? previous) => this.previous = previous;

        /// <inheritdoc/>
        public void Dispose() => Innermost.Value = previous;
    }
}
