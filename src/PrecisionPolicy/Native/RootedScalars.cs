using TorchSharp;

namespace PrecisionPolicy.Native;

/// <summary>
/// Scalars that live as long as the process. TorchSharp 0.107 hands a temporary Scalar's native
/// handle to an op without keeping the Scalar alive, so under GC pressure its finalizer can free
/// it mid-call and the op reads garbage (seen as a random <c>alpha</c> in <c>a.add(b)</c>, failing
/// in <c>c10::Scalar::toHalf</c>). Hot paths pass these, or a scalar held by a <c>using</c>.
/// </summary>
internal static class RootedScalars
{
    /// <summary>1, the alpha of a plain add.</summary>
    public static readonly Scalar One = 1.ToScalar();
}
