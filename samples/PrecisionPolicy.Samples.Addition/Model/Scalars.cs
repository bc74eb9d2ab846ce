using TorchSharp;

namespace PrecisionPolicy.Samples.Addition.Model;

/// <summary>
/// Scalars the model keeps alive for the whole run. TorchSharp 0.107 passes a temporary Scalar
/// (the implicit alpha of <c>a + b</c>, a literal in <c>t * 0.5</c>) to native code without keeping
/// it alive; under GC pressure its finalizer can free it mid-op and the op reads garbage. Held
/// scalars avoid that on the paths that run every step.
/// </summary>
internal static class Scalars
{
    public static readonly Scalar One = 1.ToScalar();
    public static readonly Scalar NegativeInfinity = float.NegativeInfinity.ToScalar();
}
