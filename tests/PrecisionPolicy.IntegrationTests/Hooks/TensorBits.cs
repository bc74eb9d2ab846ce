using System.Linq;
using static TorchSharp.torch;

namespace PrecisionPolicy.IntegrationTests.Hooks;

internal static class TensorBits
{
    /// <summary>Bit for bit for finite values: the same dtype, shape, values and signs (-0 and +0 differ).</summary>
    public static bool Same(Tensor a, Tensor b) =>
        a.dtype == b.dtype && a.shape.SequenceEqual(b.shape)
        && a.eq(b).all().item<bool>() && a.signbit().eq(b.signbit()).all().item<bool>();
}
